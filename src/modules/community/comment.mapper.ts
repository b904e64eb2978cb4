import type { CommentResponse, CommentTreeResponse } from './http/dto/comment.dto';
import type { CommentNode } from './queries/list-comments.query';

const DELETED = '[deleted]';

/** The wire shape of a comment: a deleted one keeps its place, without text or author. */
export function toCommentResponse({ row, author }: Pick<CommentNode, 'row' | 'author'>): CommentResponse {
  const deleted = row.deletedAt !== null;
  return {
    id: row.id,
    post_id: row.postId,
    parent_id: row.parentId,
    depth: row.depth,
    author: deleted ? null : author,
    content: deleted ? DELETED : row.content,
    deleted,
    likes_count: row.likesCount,
    liked: row.liked,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** A tree of comments, mapped without recursion (threads may be hundreds of levels deep). */
export function toCommentTrees(roots: CommentNode[]): CommentTreeResponse[] {
  const out: CommentTreeResponse[] = [];
  const stack: Array<{ node: CommentNode; into: CommentTreeResponse[] }> = roots.map((node) => ({ node, into: out }));
  stack.reverse();
  while (stack.length) {
    const { node, into } = stack.pop()!;
    const mapped: CommentTreeResponse = { ...toCommentResponse(node), replies: [] };
    into.push(mapped);
    for (let i = node.replies.length - 1; i >= 0; i--) stack.push({ node: node.replies[i], into: mapped.replies });
  }
  return out;
}
