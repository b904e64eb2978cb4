import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { Actor, mayRead } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { renderMarkdown } from '../markdown';
import { PostChanges, PostRepository } from '../repositories/post.repository';
import { attachableSnippet, PostInput, uniqueTags } from './create-post.command';

/**
 * Changes the fields given of a post, by its author only (an admin may delete
 * a post, not put words in someone's mouth). Someone else's post answers 403
 * if the caller can see it, 404 if not.
 */
export class UpdatePostCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly input: Partial<PostInput>,
  ) {
    super();
  }
}

@CommandHandler(UpdatePostCommand)
export class UpdatePostHandler implements ICommandHandler<UpdatePostCommand> {
  constructor(
    private readonly posts: PostRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor, id, input }: UpdatePostCommand): Promise<void> {
    const access = await this.posts.accessOf(id);
    if (!access || !mayRead({ ...actor, auditNotes: undefined }, access)) throw AppError.notFound('Post');
    if (access.userId !== actor.userId) throw AppError.forbidden('Only the author can edit a post');

    const changes: PostChanges = {
      title: input.title,
      content: input.content,
      contentHtml: input.content === undefined ? undefined : renderMarkdown(input.content),
      code: input.code,
      codeLanguage: input.code_language,
      tags: input.tags === undefined ? undefined : uniqueTags(input.tags),
      isPublic: input.is_public,
    };
    if (input.snippet_id !== undefined) {
      changes.snippetId = input.snippet_id === null ? null : (await attachableSnippet(this.queries, actor, input.snippet_id)).id;
    }
    if (!(await this.posts.updateOwned(id, actor.userId, changes, new Date()))) throw AppError.notFound('Post');
  }
}
