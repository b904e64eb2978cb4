import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The community: posts, nested comments, likes, favorites, comment likes,
 * follows and one-view-per-hour records.
 *
 * Every counter (a post's likes, favorites, comments and views; a comment's
 * likes; a user's followers and following; the number of public posts) is kept by triggers on the rows it
 * counts, in the same transaction as the row change. So the counts equal
 * COUNT(*) whatever writes them: concurrent toggles (the counter row's lock
 * orders them), a cascade when a post or a user is deleted, a hand-written
 * statement. The toggles themselves are unique rows (primary keys on
 * (target, user)), so a double click cannot count twice.
 *
 * `posts.hot_score` orders `sort=popular`: log10 of the engagement (likes
 * weigh 3, comments 2, views 0.1) plus the creation time in units of 12.5
 * hours. It grows with engagement and with recency, but does not depend on
 * the current time, so it can be a stored column with an index: ten times the
 * engagement is worth 12.5 hours of freshness.
 */
export class Community1764500000000 implements MigrationInterface {
  name = 'Community1764500000000';

  async up(db: QueryRunner): Promise<void> {
    // IMMUTABLE is true: the epoch of a timestamptz does not depend on the session's time zone.
    await db.query(`
      CREATE FUNCTION community_hot_score(likes integer, comments integer, views integer, created timestamptz)
      RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT log(10, (1 + 3 * likes + 2 * comments + 0.1 * views)::numeric)::double precision + extract(epoch FROM created)::double precision / 45000 $$`);

    await db.query(`
      CREATE TABLE posts (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title varchar(200) NOT NULL,
        content text NOT NULL,
        content_html text NOT NULL,
        code text,
        code_language varchar(30),
        snippet_id uuid REFERENCES snippets (id) ON DELETE SET NULL,
        tags text[] NOT NULL DEFAULT '{}',
        is_public boolean NOT NULL DEFAULT true,
        likes_count integer NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
        favorites_count integer NOT NULL DEFAULT 0 CHECK (favorites_count >= 0),
        comments_count integer NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
        views_count integer NOT NULL DEFAULT 0 CHECK (views_count >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        hot_score double precision GENERATED ALWAYS AS (community_hot_score(likes_count, comments_count, views_count, created_at)) STORED,
        search tsvector GENERATED ALWAYS AS (setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', content), 'B')) STORED
      )`);
    // The listing: public posts newest first, or most popular first; an author's posts; full text; tags.
    await db.query(`CREATE INDEX posts_public_latest_idx ON posts (created_at DESC, id DESC) WHERE is_public`);
    await db.query(`CREATE INDEX posts_public_hot_idx ON posts (hot_score DESC, id DESC) WHERE is_public`);
    // is_public included: the feed of followed authors counts their public posts from this index alone.
    await db.query(`CREATE INDEX posts_user_latest_idx ON posts (user_id, created_at DESC, id DESC) INCLUDE (is_public)`);
    await db.query(`CREATE INDEX posts_search_idx ON posts USING gin (search)`);
    await db.query(`CREATE INDEX posts_tags_idx ON posts USING gin (tags)`);
    await db.query(`CREATE INDEX posts_snippet_idx ON posts (snippet_id) WHERE snippet_id IS NOT NULL`);

    // A comment keeps its thread's top-level comment (root_id, itself for a top-level one) and its
    // depth, so a page of threads is read with one index scan. Deleting a comment blanks it
    // (deleted_at); its replies stay. A deleted author's comments stay, without author.
    await db.query(`
      CREATE TABLE comments (
        id uuid PRIMARY KEY,
        post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
        user_id uuid REFERENCES users (id) ON DELETE SET NULL,
        parent_id uuid REFERENCES comments (id) ON DELETE CASCADE,
        root_id uuid NOT NULL,
        depth integer NOT NULL CHECK (depth >= 0),
        content text NOT NULL,
        likes_count integer NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CHECK ((parent_id IS NULL) = (depth = 0)),
        CHECK (parent_id IS NOT NULL OR root_id = id)
      )`);
    await db.query(`CREATE INDEX comments_post_top_idx ON comments (post_id, created_at, id) WHERE parent_id IS NULL`);
    await db.query(`CREATE INDEX comments_root_idx ON comments (root_id, created_at, id)`);
    await db.query(`CREATE INDEX comments_parent_idx ON comments (parent_id) WHERE parent_id IS NOT NULL`);
    await db.query(`CREATE INDEX comments_user_idx ON comments (user_id) WHERE user_id IS NOT NULL`);

    await db.query(`
      CREATE TABLE post_likes (
        post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (post_id, user_id)
      )`);
    await db.query(`CREATE INDEX post_likes_user_idx ON post_likes (user_id)`);
    await db.query(`
      CREATE TABLE post_favorites (
        post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (post_id, user_id)
      )`);
    await db.query(`CREATE INDEX post_favorites_user_idx ON post_favorites (user_id, created_at DESC, post_id)`);
    await db.query(`
      CREATE TABLE comment_likes (
        comment_id uuid NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (comment_id, user_id)
      )`);
    await db.query(`CREATE INDEX comment_likes_user_idx ON comment_likes (user_id)`);
    await db.query(`
      CREATE TABLE follows (
        follower_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        followee_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (follower_id, followee_id),
        CHECK (follower_id <> followee_id)
      )`);
    await db.query(`CREATE INDEX follows_followee_idx ON follows (followee_id, created_at DESC, follower_id)`);
    await db.query(`CREATE INDEX follows_follower_latest_idx ON follows (follower_id, created_at DESC, followee_id)`);
    await db.query(`
      CREATE TABLE follow_counts (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        followers_count integer NOT NULL DEFAULT 0 CHECK (followers_count >= 0),
        following_count integer NOT NULL DEFAULT 0 CHECK (following_count >= 0)
      )`);
    // How many posts are public: the total of the unfiltered listing, which would otherwise count
    // every public post on every request. One row.
    await db.query(`
      CREATE TABLE post_totals (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        public_posts integer NOT NULL DEFAULT 0 CHECK (public_posts >= 0)
      )`);
    await db.query(`INSERT INTO post_totals DEFAULT VALUES`);
    // The last counted view of a post by a user: a view counts again an hour later. Rows older
    // than an hour mean nothing; community.sweep_views deletes them.
    await db.query(`
      CREATE TABLE post_views (
        post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        viewed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (post_id, user_id)
      )`);
    await db.query(`CREATE INDEX post_views_viewed_at_idx ON post_views (viewed_at)`);

    // The counters. One function per counted table; a row inserted adds one, a row deleted takes one.
    // Written out, not one function with the names as trigger arguments: that would need dynamic SQL
    // (EXECUTE format(...)), planned again on every like.
    await db.query(`
      CREATE FUNCTION community_count_post_like() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          UPDATE posts SET likes_count = likes_count + 1 WHERE id = NEW.post_id;
        ELSE
          UPDATE posts SET likes_count = likes_count - 1 WHERE id = OLD.post_id;
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION community_count_post_favorite() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          UPDATE posts SET favorites_count = favorites_count + 1 WHERE id = NEW.post_id;
        ELSE
          UPDATE posts SET favorites_count = favorites_count - 1 WHERE id = OLD.post_id;
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION community_count_comment_like() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          UPDATE comments SET likes_count = likes_count + 1 WHERE id = NEW.comment_id;
        ELSE
          UPDATE comments SET likes_count = likes_count - 1 WHERE id = OLD.comment_id;
        END IF;
        RETURN NULL;
      END $$`);
    // comments_count counts the comments not deleted: a blanked comment stops counting.
    await db.query(`
      CREATE FUNCTION community_count_comment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' AND NEW.deleted_at IS NULL THEN
          UPDATE posts SET comments_count = comments_count + 1 WHERE id = NEW.post_id;
        ELSIF TG_OP = 'DELETE' AND OLD.deleted_at IS NULL THEN
          UPDATE posts SET comments_count = comments_count - 1 WHERE id = OLD.post_id;
        ELSIF TG_OP = 'UPDATE' AND (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
          UPDATE posts SET comments_count = comments_count + CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END WHERE id = NEW.post_id;
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION community_count_public_post() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        step integer := 0;
      BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.is_public THEN step := step + 1; END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.is_public THEN step := step - 1; END IF;
        IF step <> 0 THEN UPDATE post_totals SET public_posts = public_posts + step; END IF;
        RETURN NULL;
      END $$`);
    // Both users' rows in id order, on insert (the VALUES sorted) and on delete (one UPDATE per row,
    // the lower id first: one UPDATE of both rows would lock them in the order its scan meets them,
    // which a sequential or bitmap scan takes from the table's physical order): every toggle locks the
    // two rows in the same order, so users following and unfollowing each other at the same moment
    // never deadlock. A delete only updates: the rows exist since the follow was counted, and when a
    // user is deleted their own row goes with them.
    await db.query(`
      CREATE FUNCTION community_count_follow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO follow_counts AS c (user_id, followers_count, following_count)
          VALUES (NEW.followee_id, 1, 0), (NEW.follower_id, 0, 1) ORDER BY 1
          ON CONFLICT (user_id) DO UPDATE
            SET followers_count = c.followers_count + EXCLUDED.followers_count,
                following_count = c.following_count + EXCLUDED.following_count;
        ELSE
          UPDATE follow_counts
          SET followers_count = followers_count - (user_id = OLD.followee_id)::integer,
              following_count = following_count - (user_id = OLD.follower_id)::integer
          WHERE user_id = least(OLD.followee_id, OLD.follower_id);
          UPDATE follow_counts
          SET followers_count = followers_count - (user_id = OLD.followee_id)::integer,
              following_count = following_count - (user_id = OLD.follower_id)::integer
          WHERE user_id = greatest(OLD.followee_id, OLD.follower_id);
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`CREATE TRIGGER posts_public_count AFTER INSERT OR DELETE OR UPDATE OF is_public ON posts FOR EACH ROW EXECUTE FUNCTION community_count_public_post()`);
    await db.query(`CREATE TRIGGER post_likes_count AFTER INSERT OR DELETE ON post_likes FOR EACH ROW EXECUTE FUNCTION community_count_post_like()`);
    await db.query(`CREATE TRIGGER post_favorites_count AFTER INSERT OR DELETE ON post_favorites FOR EACH ROW EXECUTE FUNCTION community_count_post_favorite()`);
    await db.query(`CREATE TRIGGER comment_likes_count AFTER INSERT OR DELETE ON comment_likes FOR EACH ROW EXECUTE FUNCTION community_count_comment_like()`);
    await db.query(`CREATE TRIGGER comments_count AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON comments FOR EACH ROW EXECUTE FUNCTION community_count_comment()`);
    await db.query(`CREATE TRIGGER follows_count AFTER INSERT OR DELETE ON follows FOR EACH ROW EXECUTE FUNCTION community_count_follow()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE post_views, post_totals, follow_counts, follows, comment_likes, post_favorites, post_likes, comments, posts`);
    await db.query(`DROP FUNCTION community_count_follow(), community_count_comment(), community_count_comment_like(), community_count_post_favorite(), community_count_post_like(), community_count_public_post()`);
    await db.query(`DROP FUNCTION community_hot_score(integer, integer, integer, timestamptz)`);
  }
}
