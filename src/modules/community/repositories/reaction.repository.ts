import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor } from '../../../common/auth/ownership';

/** The four toggles: a row per (target, user), unique, counted by a trigger on the target. */
export type ToggleKind = 'post_like' | 'post_favorite' | 'comment_like' | 'follow';

interface ToggleTable {
  table: string;
  /** The column naming what is liked, favorited or followed. */
  target: string;
  /** The column naming who does it. */
  user: string;
  /**
   * The target, if the actor may react to it ($1 the target, $2 the actor, $3 whether an admin):
   * its id, whom it belongs to (told of the reaction) and its counter as this statement sees it.
   */
  find: string;
  /** The target's counter as it is now ($1 the target). */
  counter: string;
}

const TABLES: Record<ToggleKind, ToggleTable> = {
  post_like: {
    table: 'post_likes', target: 'post_id', user: 'user_id',
    find: `SELECT p.id, p.user_id AS owner_id, p.likes_count AS count FROM posts p WHERE p.id = $1 AND (p.is_public OR p.user_id = $2 OR $3::boolean)`,
    counter: `SELECT likes_count AS count FROM posts WHERE id = $1`,
  },
  post_favorite: {
    table: 'post_favorites', target: 'post_id', user: 'user_id',
    find: `SELECT p.id, p.user_id AS owner_id, p.favorites_count AS count FROM posts p WHERE p.id = $1 AND (p.is_public OR p.user_id = $2 OR $3::boolean)`,
    counter: `SELECT favorites_count AS count FROM posts WHERE id = $1`,
  },
  comment_like: {
    table: 'comment_likes', target: 'comment_id', user: 'user_id',
    find: `SELECT c.id, c.user_id AS owner_id, c.likes_count AS count FROM comments c JOIN posts p ON p.id = c.post_id
           WHERE c.id = $1 AND c.deleted_at IS NULL AND (p.is_public OR p.user_id = $2 OR $3::boolean)`,
    counter: `SELECT likes_count AS count FROM comments WHERE id = $1`,
  },
  // Whether the followed user exists is the identity context's to say (the handler asks it first);
  // the foreign key refuses a user deleted in between. $3 is unused but keeps the parameters alike.
  follow: {
    table: 'follows', target: 'followee_id', user: 'follower_id',
    find: `SELECT $1::uuid AS id, $1::uuid AS owner_id, coalesce((SELECT followers_count FROM follow_counts WHERE user_id = $1), 0) AS count WHERE $3::boolean IS NOT NULL`,
    counter: `SELECT coalesce((SELECT followers_count FROM follow_counts WHERE user_id = $1), 0) AS count`,
  },
};

/** What a toggle did: null when the target is not there (or not visible to the actor). */
export interface Toggled {
  /** Whether the actor's row exists now (liked, favorited, following). */
  on: boolean;
  /** Whether this toggle added the row (false: removed it, or another request of the actor's added it first). */
  added: boolean;
  /** The target's counter after this toggle. */
  count: number;
  /** Whom the target belongs to: the post's or comment's author, the followed user. */
  ownerId: string | null;
}

/**
 * The toggles, each one statement: find the target (visibility included),
 * delete the actor's row if there is one, else insert it; then, in the same
 * transaction, the target's counter as the toggle left it. Two toggles of one
 * user racing each other end with one row at most (the primary key), and the
 * counters follow the rows through their triggers, so they stay exact however
 * many users toggle at once.
 */
@Injectable()
export class ReactionRepository {
  constructor(private readonly dataSource: DataSource) {}

  async toggle(kind: ToggleKind, targetId: string, actor: Actor): Promise<Toggled | null> {
    const { table, target, user, find, counter } = TABLES[kind];
    try {
      // The toggle, then in the same transaction the counter as this toggle left it. The statement's own
      // snapshot cannot say it: other toggles commit meanwhile, and the trigger counts at the statement's
      // end. Once the trigger has updated the counter row it holds that row's lock until the commit, so
      // the second read sees every toggle committed before this one and none after.
      return await this.dataSource.transaction(async (manager) => {
        const rows: Array<{ ownerId: string | null; removed: boolean; added: boolean }> = await manager.query(
          `WITH target AS (${find}),
           removed AS (DELETE FROM ${table} r USING target WHERE r.${target} = target.id AND r.${user} = $2 RETURNING 1),
           added AS (
             INSERT INTO ${table} (${target}, ${user}) SELECT id, $2 FROM target WHERE NOT EXISTS (SELECT 1 FROM removed)
             ON CONFLICT DO NOTHING RETURNING 1)
           SELECT owner_id AS "ownerId", EXISTS (SELECT 1 FROM removed) AS removed, EXISTS (SELECT 1 FROM added) AS added FROM target`,
          [targetId, actor.userId, actor.admin],
        );
        const row = rows[0];
        if (!row) return null;
        const [counted]: Array<{ count: number } | undefined> = await manager.query(counter, [targetId]);
        // Deleted since (possible only when this toggle changed nothing, so holds no lock on it).
        if (!counted) return null;
        // Neither removed nor added: a concurrent toggle of the same user inserted the row first.
        return { on: !row.removed, added: row.added, count: counted.count, ownerId: row.ownerId };
      });
    } catch (error) {
      // The target was deleted between this statement's look and its insert.
      if ((error as { code?: string }).code === '23503') return null;
      throw error;
    }
  }
}
