import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A comment as the community context reads it; `liked` is the viewer's. */
export interface CommentRow {
  id: string;
  postId: string;
  /** Null once the author's account is deleted. */
  userId: string | null;
  parentId: string | null;
  rootId: string;
  depth: number;
  content: string;
  likesCount: number;
  liked: boolean;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export type NewComment = Omit<CommentRow, 'likesCount' | 'liked' | 'deletedAt'>;

const COLUMNS = `c.id, c.post_id AS "postId", c.user_id AS "userId", c.parent_id AS "parentId", c.root_id AS "rootId", c.depth,
  c.content, c.likes_count AS "likesCount", c.created_at AS "createdAt", c.updated_at AS "updatedAt", c.deleted_at AS "deletedAt"`;

/**
 * The `comments` table. A comment carries its thread's top-level comment
 * (`root_id`) and its depth, so a page of threads, every reply at every depth
 * included, is one index scan; `comments_count` on the post is kept by a
 * trigger. Deleting blanks a comment and keeps its replies.
 */
@Injectable()
export class CommentRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(comment: NewComment): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO comments (id, post_id, user_id, parent_id, root_id, depth, content, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [comment.id, comment.postId, comment.userId, comment.parentId, comment.rootId, comment.depth, comment.content, comment.createdAt, comment.updatedAt],
    );
  }

  /** The comment (deleted or not) with the viewer's like; null when there is none. */
  async findById(id: string, viewerId: string): Promise<CommentRow | null> {
    const rows: CommentRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS}, EXISTS (SELECT 1 FROM comment_likes l WHERE l.comment_id = c.id AND l.user_id = $2) AS liked FROM comments c WHERE c.id = $1`,
      [id, viewerId],
    );
    return rows[0] ?? null;
  }

  /** New content, if the comment still belongs to `ownerId` and is not deleted. */
  async updateOwned(id: string, ownerId: string, content: string, now: Date): Promise<boolean> {
    // TypeORM answers an UPDATE as [rows, affected count]: the count says whether it changed the comment.
    const [, changed]: [unknown, number] = await this.dataSource.query(
      `UPDATE comments SET content = $3, updated_at = $4 WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL`,
      [id, ownerId, content, now],
    );
    return changed > 0;
  }

  /** Blanks the comment (its text is gone; its replies stay), if it still belongs to `ownerId` (null: a deleted account) and is not deleted yet. */
  async blankOwned(id: string, ownerId: string | null, now: Date): Promise<boolean> {
    const [, blanked]: [unknown, number] = await this.dataSource.query(
      `UPDATE comments SET content = '', deleted_at = $3, updated_at = $3 WHERE id = $1 AND user_id IS NOT DISTINCT FROM $2::uuid AND deleted_at IS NULL`,
      [id, ownerId, now],
    );
    return blanked > 0;
  }

  /**
   * One page of a post's threads, oldest first: the page's top-level comments
   * and every reply under them, in one statement (the page is chosen by the
   * partial index on top-level comments, the replies found by `root_id`),
   * with the number of top-level comments (null when the page is past the end).
   */
  async threadsPage(postId: string, viewerId: string, page: { page: number; limit: number }): Promise<{ rows: CommentRow[]; total: number | null }> {
    const rows: Array<CommentRow & { total: number }> = await this.dataSource.query(
      `WITH page AS (
         SELECT id, count(*) OVER ()::integer AS total FROM comments
         WHERE post_id = $1 AND parent_id IS NULL ORDER BY created_at, id LIMIT $3 OFFSET $4)
       SELECT ${COLUMNS}, page.total, EXISTS (SELECT 1 FROM comment_likes l WHERE l.comment_id = c.id AND l.user_id = $2) AS liked
       FROM page JOIN comments c ON c.root_id = page.id
       ORDER BY c.depth, c.created_at, c.id`,
      [postId, viewerId, page.limit, (page.page - 1) * page.limit],
    );
    return { rows, total: rows[0]?.total ?? null };
  }

  async countTopLevel(postId: string): Promise<number> {
    const rows: Array<{ total: number }> = await this.dataSource.query(
      `SELECT count(*)::integer AS total FROM comments WHERE post_id = $1 AND parent_id IS NULL`,
      [postId],
    );
    return rows[0].total;
  }
}
