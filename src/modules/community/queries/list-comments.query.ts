import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayRead } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { pagination, Pagination } from '../../../common/http/pagination';
import { Author, Authors } from '../authors';
import { CommentRepository, CommentRow } from '../repositories/comment.repository';
import { Page, PostRepository } from '../repositories/post.repository';

/** A comment with its author and, in a tree, its replies. */
export interface CommentNode {
  row: CommentRow;
  author: Author | null;
  replies: CommentNode[];
}

/**
 * A page of a post's top-level comments, oldest first, each with every reply
 * under it as a tree. A constant number of statements whatever the size of the
 * tree: the post's visibility, the page with all its replies, their authors
 * (and the count of top-level comments when the page is past the end).
 */
export class ListCommentsQuery extends Query<{ comments: CommentNode[]; pagination: Pagination }> {
  constructor(
    readonly actor: Actor,
    readonly postId: string,
    readonly page: Page,
  ) {
    super();
  }
}

@QueryHandler(ListCommentsQuery)
export class ListCommentsHandler implements IQueryHandler<ListCommentsQuery> {
  constructor(
    private readonly posts: PostRepository,
    private readonly comments: CommentRepository,
    private readonly authors: Authors,
  ) {}

  async execute({ actor, postId, page }: ListCommentsQuery): Promise<{ comments: CommentNode[]; pagination: Pagination }> {
    const post = await this.posts.accessOf(postId);
    if (!post || !mayRead({ ...actor, auditNotes: undefined }, post)) throw AppError.notFound('Post');
    const { rows, total } = await this.comments.threadsPage(postId, actor.userId, page);
    const authors = await this.authors.authorsOf(rows.filter((row) => !row.deletedAt).map((row) => row.userId));
    return {
      comments: buildTrees(rows, authors),
      pagination: pagination(total ?? (await this.comments.countTopLevel(postId)), page),
    };
  }
}

/**
 * Rows ordered by depth (parents before their replies) into trees, without
 * recursion (a thread may be hundreds of levels deep).
 */
export function buildTrees(rows: CommentRow[], authors: Map<string, Author>): CommentNode[] {
  const nodes = new Map<string, CommentNode>();
  const roots: CommentNode[] = [];
  for (const row of rows) {
    const node: CommentNode = { row, author: row.deletedAt || !row.userId ? null : (authors.get(row.userId) ?? null), replies: [] };
    nodes.set(row.id, node);
    if (row.parentId === null) roots.push(node);
    else nodes.get(row.parentId)?.replies.push(node);
  }
  return roots;
}
