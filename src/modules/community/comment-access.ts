import { Actor, mayRead } from '../../common/auth/ownership';
import { AppError } from '../../common/errors/app-error';
import type { CommentRepository, CommentRow } from './repositories/comment.repository';
import type { PostRepository } from './repositories/post.repository';

/** A comment not deleted, on a post the actor may see; else 404. */
export async function visibleComment(comments: CommentRepository, posts: PostRepository, id: string, actor: Actor): Promise<CommentRow> {
  const comment = await comments.findById(id, actor.userId);
  const post = comment && !comment.deletedAt ? await posts.accessOf(comment.postId) : null;
  // Without the audit notes: seeing the post is not acting on its author's behalf.
  if (!comment || !post || !mayRead({ ...actor, auditNotes: undefined }, post)) throw AppError.notFound('Comment');
  return comment;
}
