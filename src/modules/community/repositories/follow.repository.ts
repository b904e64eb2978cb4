import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** One side of a follow, as the lists show it. */
export interface FollowRow {
  userId: string;
  followedAt: Date;
}

export interface FollowCounts {
  followers: number;
  following: number;
}

/** The `follows` table (toggled by ReactionRepository) and its counts (`follow_counts`, kept by a trigger). */
@Injectable()
export class FollowRepository {
  constructor(private readonly dataSource: DataSource) {}

  async countsOf(userId: string): Promise<FollowCounts> {
    const rows: FollowCounts[] = await this.dataSource.query(
      `SELECT followers_count AS followers, following_count AS following FROM follow_counts WHERE user_id = $1`,
      [userId],
    );
    return rows[0] ?? { followers: 0, following: 0 };
  }

  /** Who follows `userId`, most recent first. */
  followersOf(userId: string, page: { page: number; limit: number }): Promise<FollowRow[]> {
    return this.dataSource.query(
      `SELECT follower_id AS "userId", created_at AS "followedAt" FROM follows WHERE followee_id = $1
       ORDER BY created_at DESC, follower_id DESC LIMIT $2 OFFSET $3`,
      [userId, page.limit, (page.page - 1) * page.limit],
    );
  }

  /** Whom `userId` follows, most recent first. */
  followingOf(userId: string, page: { page: number; limit: number }): Promise<FollowRow[]> {
    return this.dataSource.query(
      `SELECT followee_id AS "userId", created_at AS "followedAt" FROM follows WHERE follower_id = $1
       ORDER BY created_at DESC, followee_id DESC LIMIT $2 OFFSET $3`,
      [userId, page.limit, (page.page - 1) * page.limit],
    );
  }

  /** Of `others`, those `userId` follows. */
  async followedAmong(userId: string, others: string[]): Promise<Set<string>> {
    if (others.length === 0) return new Set();
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT followee_id AS id FROM follows WHERE follower_id = $1 AND followee_id = ANY($2::uuid[])`,
      [userId, others],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** Whether `a` follows `b` and whether `b` follows `a`. */
  async between(a: string, b: string): Promise<{ following: boolean; followedBy: boolean }> {
    const rows: Array<{ following: boolean; followedBy: boolean }> = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2) AS following,
              EXISTS (SELECT 1 FROM follows WHERE follower_id = $2 AND followee_id = $1) AS "followedBy"`,
      [a, b],
    );
    return rows[0];
  }
}
