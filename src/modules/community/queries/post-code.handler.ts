import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { GetPostCodeQuery, PostCode } from '../../library/queries/get-post-code.query';
import { PostRepository } from '../repositories/post.repository';

/**
 * The library asks for a post's code to copy it into someone's library (POST
 * /code-library/save with post_id). The library declares the question; the
 * community answers it here, so the dependency runs one way (community → library).
 */
@QueryHandler(GetPostCodeQuery)
export class PostCodeHandler implements IQueryHandler<GetPostCodeQuery> {
  constructor(private readonly posts: PostRepository) {}

  async execute({ postId, actor }: GetPostCodeQuery): Promise<PostCode | null> {
    const row = await this.posts.findVisible(postId, actor);
    return row ? { title: row.title, code: row.code, code_language: row.codeLanguage, tags: row.tags } : null;
  }
}
