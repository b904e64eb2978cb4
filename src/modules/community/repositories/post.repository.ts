import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor } from '../../../common/auth/ownership';

/** A post as the community context reads it; `liked`/`favorited` are the viewer's. */
export interface PostRow {
  id: string;
  userId: string;
  title: string;
  content: string;
  contentHtml: string;
  code: string | null;
  codeLanguage: string | null;
  snippetId: string | null;
  tags: string[];
  isPublic: boolean;
  likesCount: number;
  favoritesCount: number;
  commentsCount: number;
  viewsCount: number;
  createdAt: Date;
  updatedAt: Date;
  liked: boolean;
  favorited: boolean;
}

export type NewPost = Omit<PostRow, 'likesCount' | 'favoritesCount' | 'commentsCount' | 'viewsCount' | 'liked' | 'favorited'>;
export type PostChanges = Partial<Pick<PostRow, 'title' | 'content' | 'contentHtml' | 'code' | 'codeLanguage' | 'snippetId' | 'tags' | 'isPublic'>>;

/** The filters of GET /community/posts; `following` and `favoritedBy` are user ids. */
export interface PostFilters {
  tag?: string;
  authorId?: string;
  /** Words to find in the title or content (full text, `simple` dictionary, every word must match). */
  q?: string;
  /** Only posts by the people this user follows. */
  following?: string;
  sort: 'latest' | 'popular';
  /** Also the author's private posts (the author, an admin): only with authorId. */
  includePrivate?: boolean;
}

export interface Page {
  page: number;
  limit: number;
}

const COLUMNS = `p.id, p.user_id AS "userId", p.title, p.content, p.content_html AS "contentHtml", p.code, p.code_language AS "codeLanguage",
  p.snippet_id AS "snippetId", p.tags, p.is_public AS "isPublic", p.likes_count AS "likesCount", p.favorites_count AS "favoritesCount",
  p.comments_count AS "commentsCount", p.views_count AS "viewsCount", p.created_at AS "createdAt", p.updated_at AS "updatedAt"`;

/** The viewer's own reactions (`viewer` is the placeholder of their id), read for the rows of one page only. */
const reactions = (viewer: string) => `EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = p.id AND l.user_id = ${viewer}) AS liked,
  EXISTS (SELECT 1 FROM post_favorites f WHERE f.post_id = p.id AND f.user_id = ${viewer}) AS favorited`;

/** Who may see a post: anyone if public, else its author or an admin ($1 the viewer, $2 whether an admin). */
const VISIBLE = `(p.is_public OR p.user_id = $1 OR $2::boolean)`;

const ORDER = { latest: 'p.created_at DESC, p.id DESC', popular: 'p.hot_score DESC, p.id DESC' } as const;

const NAMES: Record<keyof PostChanges, string> = {
  title: 'title', content: 'content', contentHtml: 'content_html', code: 'code', codeLanguage: 'code_language',
  snippetId: 'snippet_id', tags: 'tags', isPublic: 'is_public',
};

/**
 * The `posts` table and its views: every statement about posts. The counters
 * are kept by triggers (migration 1764500000000-Community), so nothing here
 * writes them except the view count. Visibility is part of each read: a post
 * another user may not see is simply not found.
 */
@Injectable()
export class PostRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(post: NewPost): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO posts (id, user_id, title, content, content_html, code, code_language, snippet_id, tags, is_public, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [post.id, post.userId, post.title, post.content, post.contentHtml, post.code, post.codeLanguage, post.snippetId, post.tags, post.isPublic, post.createdAt, post.updatedAt],
    );
  }

  /** The post with the viewer's reactions, if the viewer may see it. */
  async findVisible(id: string, viewer: Actor): Promise<PostRow | null> {
    const rows: PostRow[] = await this.dataSource.query(`SELECT ${COLUMNS}, ${reactions('$1')} FROM posts p WHERE p.id = $3 AND ${VISIBLE}`, [viewer.userId, viewer.admin, id]);
    return rows[0] ?? null;
  }

  /** Who wrote the post and whether it is public; null when there is no such post. */
  async accessOf(id: string): Promise<{ userId: string; isPublic: boolean } | null> {
    const rows: Array<{ userId: string; isPublic: boolean }> = await this.dataSource.query(
      `SELECT user_id AS "userId", is_public AS "isPublic" FROM posts WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Changes the post if it still belongs to `ownerId`; false when it does not (a concurrent delete won). */
  async updateOwned(id: string, ownerId: string, changes: PostChanges, now: Date): Promise<boolean> {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined) as Array<[keyof PostChanges, unknown]>;
    const sets = entries.map(([key], i) => `${NAMES[key]} = $${i + 4}`);
    // TypeORM answers an UPDATE or DELETE as [rows, affected count]: the count says whether it found the post.
    const [, changed]: [unknown, number] = await this.dataSource.query(
      `UPDATE posts SET ${[...sets, 'updated_at = $3'].join(', ')} WHERE id = $1 AND user_id = $2`,
      [id, ownerId, now, ...entries.map(([, value]) => value)],
    );
    return changed > 0;
  }

  /** Deletes the post (its comments, likes, favorites and views cascade) if it still belongs to `ownerId`. */
  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    const [, deleted]: [unknown, number] = await this.dataSource.query(`DELETE FROM posts WHERE id = $1 AND user_id = $2`, [id, ownerId]);
    return deleted > 0;
  }

  /**
   * One page of posts matching the filters, and how many match in all. Every
   * shape of the filters is served by an index: the public listing by the
   * partial indexes on (created_at) and (hot_score), an author's posts and the
   * feed of followed authors by (user_id, created_at), words by the GIN index on
   * `search`, a tag by the GIN index on `tags`.
   */
  async list(viewer: Actor, filters: PostFilters, page: Page): Promise<{ rows: PostRow[]; total: number }> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const where: string[] = [];
    if (!(filters.includePrivate && filters.authorId)) where.push('p.is_public');
    if (filters.authorId) where.push(`p.user_id = ${param(filters.authorId)}`);
    if (filters.following) where.push(`p.user_id IN (SELECT followee_id FROM follows WHERE follower_id = ${param(filters.following)})`);
    if (filters.tag) where.push(`p.tags @> ARRAY[${param(filters.tag)}]::text[]`);
    if (filters.q) where.push(`p.search @@ plainto_tsquery('simple', ${param(filters.q)})`);
    const condition = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // Unfiltered, the total is the trigger-kept count of public posts, not a count of them all on every request.
    const count = (
      where.length === 1 && where[0] === 'p.is_public'
        ? this.dataSource.query(`SELECT public_posts AS total FROM post_totals`)
        : this.dataSource.query(`SELECT count(*)::integer AS total FROM posts p ${condition}`, [...params])
    ) as Promise<Array<{ total: number }>>;
    const order = ORDER[filters.sort];
    const [limit, offset, me] = [param(page.limit), param((page.page - 1) * page.limit), param(viewer.userId)];
    // The page first, then the viewer's reactions for its rows only.
    const rows = this.dataSource.query(
      `SELECT ${COLUMNS}, ${reactions(me)} FROM (SELECT * FROM posts p ${condition} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}) p ORDER BY ${order}`,
      params,
    ) as Promise<PostRow[]>;
    const [pageRows, counted] = await Promise.all([rows, count]);
    return { rows: pageRows, total: counted[0].total };
  }

  /** The viewer's favorites they may still see, most recently favorited first. */
  async favoritesOf(viewer: Actor, page: Page): Promise<{ rows: PostRow[]; total: number }> {
    const params = [viewer.userId, viewer.admin, page.limit, (page.page - 1) * page.limit];
    const [rows, counted] = await Promise.all([
      this.dataSource.query(
        `SELECT ${COLUMNS}, ${reactions('$1')} FROM post_favorites fav JOIN posts p ON p.id = fav.post_id
         WHERE fav.user_id = $1 AND ${VISIBLE} ORDER BY fav.created_at DESC, fav.post_id DESC LIMIT $3 OFFSET $4`,
        params,
      ) as Promise<PostRow[]>,
      this.dataSource.query(
        `SELECT count(*)::integer AS total FROM post_favorites fav JOIN posts p ON p.id = fav.post_id WHERE fav.user_id = $1 AND ${VISIBLE}`,
        params.slice(0, 2),
      ) as Promise<Array<{ total: number }>>,
    ]);
    return { rows, total: counted[0].total };
  }

  /**
   * Counts a view of a post by a user, at most once an hour per user and post,
   * in one statement: the view row is inserted, or moved forward if the last
   * counted one is over an hour old; only then is views_count incremented. The
   * author's own views are not counted, nor views of posts the viewer may not
   * see. Answers whether the view counted.
   */
  async recordView(id: string, viewer: Actor): Promise<boolean> {
    const [, counted]: [unknown, number] = await this.dataSource.query(
      `WITH target AS (SELECT p.id FROM posts p WHERE p.id = $3 AND p.user_id <> $1 AND ${VISIBLE}),
       counted AS (
         INSERT INTO post_views AS v (post_id, user_id) SELECT id, $1 FROM target
         ON CONFLICT (post_id, user_id) DO UPDATE SET viewed_at = now() WHERE v.viewed_at <= now() - interval '1 hour'
         RETURNING post_id)
       UPDATE posts SET views_count = views_count + 1 WHERE id IN (SELECT post_id FROM counted)`,
      [viewer.userId, viewer.admin, id],
    );
    return counted > 0;
  }

  /** Forgets views over an hour old (they no longer hold back a count); answers how many. */
  async sweepViews(): Promise<number> {
    const [, count]: [unknown, number] = await this.dataSource.query(`DELETE FROM post_views WHERE viewed_at <= now() - interval '1 hour'`);
    return count;
  }

  /** A user's posts (public ones only, or all) and what they received: likes, favorites, comments. */
  async authorStats(userId: string, publicOnly: boolean): Promise<{ posts: number; likes: number; favorites: number; comments: number }> {
    const rows: Array<{ posts: number; likes: number; favorites: number; comments: number }> = await this.dataSource.query(
      `SELECT count(*)::integer AS posts, coalesce(sum(likes_count), 0)::integer AS likes,
              coalesce(sum(favorites_count), 0)::integer AS favorites, coalesce(sum(comments_count), 0)::integer AS comments
       FROM posts WHERE user_id = $1 AND (is_public OR NOT $2::boolean)`,
      [userId, publicOnly],
    );
    return rows[0];
  }
}
