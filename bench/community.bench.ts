import 'reflect-metadata';
import { randomInt } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import { CommentRepository } from '../src/modules/community/repositories/comment.repository';
import { PostFilters, PostRepository } from '../src/modules/community/repositories/post.repository';
import {
  BENCH_JWT_SECRET,
  backendPids,
  ChildServer,
  Goal,
  createBenchDatabase,
  findPostgresServer,
  LoadResult,
  ms,
  num,
  percentile,
  printGoals,
  printTable,
  processCpuSeconds,
  runBenchmark,
  runLoad,
  startAppChild,
  timeSequential,
} from './support';

/**
 * `npm run bench:community`: the community's reads on realistic tables, and
 * the cost of a like.
 *
 * The app runs in a child process on a fresh bench database (its migrations
 * make the schema). The data is seeded by SQL with the counter triggers
 * disabled (bulk rows, then one UPDATE … FROM (SELECT … GROUP BY) per counter,
 * then the triggers back on, VACUUM ANALYZE, and a check that every counter
 * equals its COUNT(*): the benchmark aborts otherwise):
 *   10 k users; 100 k posts over ~a year (~10 % private; varied words for the
 *   full text; 1–2 tags from 12), 1 M likes as distinct (post, user) pairs,
 *   skewed (a few posts have thousands, most a handful), ~100 k favorites
 *   (a tenth of the likes), 200 k comments (70 % top-level, the rest replies
 *   to depth 3, 1 % deleted) with ~300 k comment likes (0–3 each),
 *   views_count; one post with 5 000 comments (300
 *   top-level, the rest replies to depth 5); one user who follows 500 others
 *   (and ~50 k other follows, five per user), with follow_counts.
 * Request tokens are JWTs signed with the bench secret for sessions inserted
 * by SQL (registering hundreds of users through bcrypt would take minutes).
 *
 * Then, one request at a time (BENCH_RUNS samples each after a warm-up), as
 * the user who follows 500 people:
 *  (a) GET /api/v1/community/posts, sort=latest and sort=popular, page 1 and
 *      page 50 — goal p95 ≤ 20 ms each;
 *  (b) GET /api/v1/community/posts?following=true — goal p95 ≤ 30 ms
 *      (sort=popular for reference, no goal);
 *  (c) GET /api/v1/community/posts/<id>/comments, page 1 of the post with
 *      5 000 comments (20 threads with every reply under them) — goal p95 ≤ 30 ms.
 * And under load (autocannon, BENCH_CONNECTIONS connections, BENCH_DURATION s
 * after BENCH_WARMUP s), each request with the token of one of 200 users and
 * a random public post, in the same run:
 *  (d) POST /api/v1/community/posts/<id>/like (a toggle) vs GET
 *      /api/v1/users/me with the same tokens — goal ≥ 0.3× the req/s, with
 *      every response a 200 (statuses are counted and printed).
 *      startAppChild sets RATE_LIMIT_ENABLED=false, which leaves the
 *      rate-limit guard out of the app, and with it the per-user action limit
 *      (30 likes, favorites and follows per 30 s; admins are exempt from it
 *      too, but an admin also skips the plan lookup, so ordinary users are
 *      used). With limits on, 200 users could like 200 times a second in all;
 *      here the load measures the app, not the limiter. Each side's CPU time
 *      per request is shown, the app's and the database backends' (where the
 *      time goes; n/a when PostgreSQL runs on another machine), and the WAL
 *      written per request (full-page images included). After the
 *      load every counter must still equal its COUNT(*) (concurrent toggles).
 * For reference, EXPLAIN (ANALYZE, BUFFERS) of the SQL behind (a)–(c) — the
 * repositories' own statements, captured from PostRepository and
 * CommentRepository, so the figures follow the code: median execution time
 * and the scans used (BENCH_PLANS=true prints the whole plans).
 *
 * Knobs: BENCH_RUNS (default 200), BENCH_DURATION (s, default 5),
 * BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS (default 64),
 * BENCH_PLANS=true, BENCH_EMBEDDED=true. Exits 0 when the benchmark ran,
 * whatever the verdicts.
 */

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SHOW_PLANS = /^(1|true|yes)$/i.test(process.env.BENCH_PLANS ?? '');

const USERS = 10_000;
const POSTS = 100_000;
/** Comments per depth (top-level first) over all posts: 200 k. */
const COMMENT_LEVELS = [140_000, 40_000, 15_000, 5_000];
/** Comments per depth on the busy post: 5 000. */
const BUSY_LEVELS = [300, 2_000, 1_300, 800, 400, 200];
const FOLLOWING = 500;
/** Users (cu_<n>, n in this range) whose tokens the load rotates through. */
const LOAD_USERS = { from: 1001, to: 1200 };
const PAGE_SIZE = 20;

const GOAL_LIST_P95_MS = 20;
const GOAL_FOLLOWING_P95_MS = 30;
const GOAL_COMMENTS_P95_MS = 30;
const GOAL_LIKE_RATIO = 0.3;

const TOPICS = [
  'fibonacci', 'quicksort', 'binary search', 'linked list', 'http client', 'csv parser', 'json formatter', 'prime sieve',
  'matrix multiply', 'web scraper', 'rate limiter', 'lru cache', 'date parsing', 'string builder', 'palindrome check',
  'word count', 'merge sort', 'dijkstra', 'graph traversal', 'hash map', 'thread pool', 'regex engine', 'tokenizer', 'bloom filter',
];
const ADJECTIVES = ['simple', 'fast', 'recursive', 'iterative', 'memoized', 'generic', 'tiny', 'robust', 'lazy', 'streaming', 'async', 'typed'];
const LANGUAGES = ['python', 'javascript', 'typescript', 'go', 'rust', 'java', 'ruby', 'kotlin'];
const WORDS = [
  'performance', 'benchmark', 'allocation', 'closure', 'iterator', 'generator', 'recursion', 'pointer', 'lifetime', 'borrow',
  'promise', 'callback', 'coroutine', 'channel', 'mutex', 'deadlock', 'latency', 'throughput', 'cache', 'index', 'query',
  'schema', 'migration', 'transaction', 'refactor', 'interface', 'generic', 'monad', 'functor', 'lambda', 'compiler',
  'interpreter', 'bytecode', 'garbage', 'heap', 'stack', 'queue', 'tree', 'graph', 'vector',
];
const TAGS = ['python', 'javascript', 'typescript', 'go', 'rust', 'java', 'algorithms', 'web', 'databases', 'testing', 'devops', 'beginners'];

const literal = (values: string[]) => `ARRAY[${values.map((v) => `'${v}'`).join(', ')}]`;
/** A fraction in [0, 1) that depends only on `expr` and `salt` (so every run seeds data of the same shape; ids are random). */
const frac = (expr: string, salt: string) => `((abs(hashtext(${expr} || '${salt}')) % 1000000) / 1000000.0)`;
/** An integer in [0, n) that depends only on `expr` and `salt`. */
const pick = (expr: string, salt: string, n: number | string) => `(abs(hashtext(${expr} || '${salt}')) % ${n})`;

// ---------------------------------------------------------------- seeding

interface Seeded {
  busyPostId: string;
  followerId: string;
  publicPosts: number;
  followedPublicPosts: number;
  busyTopLevel: number;
  counts: Record<string, number>;
}

const COUNTER_TRIGGERS: Array<[table: string, trigger: string]> = [
  ['post_likes', 'post_likes_count'],
  ['post_favorites', 'post_favorites_count'],
  ['comment_likes', 'comment_likes_count'],
  ['comments', 'comments_count'],
  ['follows', 'follows_count'],
  ['posts', 'posts_public_count'],
];

async function step(label: string, run: () => Promise<unknown>): Promise<void> {
  const started = Date.now();
  await run();
  console.log(`  ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/**
 * Comments of one batch, depth by depth, in the temp table sc: depth 0 given by
 * `topLevel` (SQL yielding i, id, post_id, created_at), each deeper one
 * answering a comment of the depth above picked by hashing its number.
 */
async function seedCommentLevels(db: Client, batch: number, levels: number[], topLevel: string): Promise<void> {
  await db.query(`INSERT INTO sc (batch, depth, k, id, post_id, root_id, parent_id, created_at)
                  SELECT ${batch}, 0, i, id, post_id, id, NULL, created_at FROM (${topLevel}) top`);
  await db.query('ANALYZE sc');
  for (let depth = 1; depth < levels.length; depth++) {
    await db.query(`
      INSERT INTO sc (batch, depth, k, id, post_id, root_id, parent_id, created_at)
      SELECT ${batch}, ${depth}, i, gen_random_uuid(), p.post_id, p.root_id, p.id,
             LEAST(now(), p.created_at + (1 + ${pick('i', `rt${batch}.${depth}`, 6 * 3600)}) * interval '1 second')
      FROM generate_series(1, ${levels[depth]}) AS i
      JOIN sc p ON p.batch = ${batch} AND p.depth = ${depth - 1} AND p.k = 1 + ${pick('i', `rp${batch}.${depth}`, levels[depth - 1])}`);
    await db.query('ANALYZE sc');
  }
}

async function seed(db: Client): Promise<Seeded> {
  let busyPostId = '';
  for (const [table, trigger] of COUNTER_TRIGGERS) await db.query(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
  try {
    await step(`${USERS} users`, async () => {
      await db.query(`CREATE TEMP TABLE su AS SELECT i AS n, gen_random_uuid() AS id FROM generate_series(1, ${USERS}) AS i`);
      await db.query('ALTER TABLE su ADD PRIMARY KEY (n)');
      await db.query(`INSERT INTO users (id, username, email, password_hash, created_at, updated_at)
                      SELECT id, 'cu_' || n, 'cu_' || n || '@example.test', 'not-a-bcrypt-hash', now() - interval '400 days', now() FROM su`);
    });

    // Post n's popularity falls with n (likes ≈ 5 + 5500·n^-0.7, ~1 M in all); its author, age and
    // visibility are hashed from n, so popular posts are of every age. Its likers are the users
    // start, start + stride, … (mod 10 000), stride odd and not a multiple of 5: distinct users.
    await step(`${POSTS} posts`, async () => {
      await db.query(`
        CREATE TEMP TABLE sp AS
        SELECT i AS n, gen_random_uuid() AS id, su.id AS user_id,
               now() - ${pick('i', 'age', 365 * 86400)} * interval '1 second' AS created_at,
               ${pick('i', 'pub', 10)} <> 0 AS is_public,
               LEAST(9000, 5 + floor(5500 * power(i, -0.7)))::int AS likes,
               ${pick('i', 'start', USERS)} AS start,
               stride + CASE WHEN stride % 5 = 0 THEN 2 ELSE 0 END AS stride
        FROM generate_series(1, ${POSTS}) AS i
        JOIN su ON su.n = 1 + ${pick('i', 'author', USERS)},
        LATERAL (SELECT 1 + 2 * ${pick('i', 'stride', 4999)} AS stride) AS s`);
      await db.query('ALTER TABLE sp ADD PRIMARY KEY (n)');
      await db.query(`
        WITH words AS (SELECT ${literal(TOPICS)} AS topics, ${literal(ADJECTIVES)} AS adjectives, ${literal(LANGUAGES)} AS languages,
                              ${literal(WORDS)} AS words, ${literal(TAGS)} AS tags)
        INSERT INTO posts (id, user_id, title, content, content_html, code, code_language, tags, is_public, views_count, created_at, updated_at)
        SELECT sp.id, sp.user_id,
               initcap(adjective) || ' ' || topic || ' in ' || language || ' #' || sp.n,
               body, '<p>' || body || '</p>',
               CASE WHEN sp.n % 3 = 0 THEN 'def ' || replace(topic, ' ', '_') || '(items):' || chr(10) || '    return sorted(items)' END,
               CASE WHEN sp.n % 3 = 0 THEN 'python' END,
               CASE WHEN tag1 = tag2 THEN ARRAY[tag1] ELSE ARRAY[tag1, tag2] END,
               sp.is_public,
               floor(3000 * power(${frac('sp.n', 'views')}, 4))::int + 3 * sp.likes,
               sp.created_at, sp.created_at
        FROM sp, words,
             LATERAL (SELECT topics[1 + ${pick('sp.n', 't', TOPICS.length)}] AS topic,
                             adjectives[1 + ${pick('sp.n', 'a', ADJECTIVES.length)}] AS adjective,
                             languages[1 + ${pick('sp.n', 'l', LANGUAGES.length)}] AS language,
                             tags[1 + ${pick('sp.n', 'tag1', TAGS.length)}] AS tag1,
                             tags[1 + ${pick('sp.n', 'tag2', TAGS.length)}] AS tag2,
                             words[1 + ${pick('sp.n', 'w1', WORDS.length)}] AS w1,
                             words[1 + ${pick('sp.n', 'w2', WORDS.length)}] AS w2,
                             words[1 + ${pick('sp.n', 'w3', WORDS.length)}] AS w3) AS picked,
             LATERAL (SELECT 'I wrote a ' || adjective || ' ' || topic || ' in ' || language || ' and measured its ' || w1 || '. '
                             || 'The trick is the ' || w2 || ': without it the ' || w3 || ' gets in the way. '
                             || 'Feedback on the ' || w1 || ' and the ' || w3 || ' welcome!' AS body) AS written`);
    });

    const busy = await db.query<{ id: string }>(`
      INSERT INTO posts (id, user_id, title, content, content_html, tags, is_public, created_at, updated_at)
      SELECT gen_random_uuid(), id, 'A very busy thread: tabs or spaces?', 'Discuss. Politely.', '<p>Discuss. Politely.</p>',
             ARRAY['beginners'], true, now() - interval '12 hours', now() - interval '12 hours'
      FROM su WHERE n = 2 RETURNING id`);
    busyPostId = busy.rows[0].id;

    await step('post likes', () =>
      db.query(`
        INSERT INTO post_likes (post_id, user_id, created_at)
        SELECT sp.id, su.id, LEAST(now(), sp.created_at + j * interval '1 minute')
        FROM sp CROSS JOIN LATERAL generate_series(0, sp.likes - 1) AS j
        JOIN su ON su.n = 1 + (sp.start + j * sp.stride) % ${USERS}`),
    );
    await step('post favorites (a tenth of the likes)', () =>
      db.query(`INSERT INTO post_favorites (post_id, user_id, created_at)
                SELECT post_id, user_id, created_at FROM post_likes WHERE ${pick('user_id::text', 'fav', 10)} = 0`),
    );

    await step('comments', async () => {
      await db.query(`CREATE TEMP TABLE sc (batch int, depth int, k int, id uuid, post_id uuid, root_id uuid, parent_id uuid, created_at timestamptz)`);
      await db.query('CREATE INDEX ON sc (batch, depth, k)');
      // Top-level comments favour the popular posts (small n).
      await seedCommentLevels(db, 1, COMMENT_LEVELS, `
        SELECT i, gen_random_uuid() AS id, sp.id AS post_id,
               LEAST(now(), sp.created_at + (1 + ${pick('i', 'ca', 30 * 86400)}) * interval '1 second') AS created_at
        FROM generate_series(1, ${COMMENT_LEVELS[0]}) AS i
        JOIN sp ON sp.n = 1 + floor(${POSTS - 1} * power(${frac('i', 'cp')}, 2))::int`);
      await seedCommentLevels(db, 2, BUSY_LEVELS, `
        SELECT i, gen_random_uuid() AS id, '${busyPostId}'::uuid AS post_id,
               now() - interval '11 hours' + i * interval '10 seconds' AS created_at
        FROM generate_series(1, ${BUSY_LEVELS[0]}) AS i`);
      // One statement: the foreign key on parent_id is checked at its end, so the order of rows does not matter.
      await db.query(`
        INSERT INTO comments (id, post_id, user_id, parent_id, root_id, depth, content, created_at, updated_at, deleted_at)
        SELECT sc.id, sc.post_id, su.id, sc.parent_id, sc.root_id, sc.depth,
               CASE WHEN deleted THEN '' ELSE 'Nice ' || (${literal(WORDS)})[1 + ${pick('sc.id::text', 'w', WORDS.length)}]
                    || ', but have you tried a ' || (${literal(ADJECTIVES)})[1 + ${pick('sc.id::text', 'a', ADJECTIVES.length)}] || ' version?' END,
               sc.created_at, sc.created_at, CASE WHEN deleted THEN sc.created_at END
        FROM sc JOIN su ON su.n = 1 + ${pick('sc.id::text', 'author', USERS)},
             LATERAL (SELECT sc.batch = 1 AND ${pick('sc.id::text', 'deleted', 100)} = 0 AS deleted) AS d`);
    });

    // 0–3 likes per comment, by distinct users (a step of 7919, prime to 10 000).
    await step('comment likes', () =>
      db.query(`
        INSERT INTO comment_likes (comment_id, user_id, created_at)
        SELECT c.id, su.id, c.created_at
        FROM comments c CROSS JOIN LATERAL generate_series(1, ${pick('c.id::text', 'likes', 4)}) AS j
        JOIN su ON su.n = 1 + (${pick('c.id::text', 'liker', USERS)} + j * 7919) % ${USERS}`),
    );

    // cu_1 follows 500 users (1 + 7j); everyone else follows five (n + 997j).
    await step('follows', () =>
      db.query(`
        INSERT INTO follows (follower_id, followee_id, created_at)
        SELECT f.id, e.id, now() - j * interval '1 hour'
        FROM generate_series(1, ${FOLLOWING}) AS j JOIN su f ON f.n = 1 JOIN su e ON e.n = 1 + (j * 7) % ${USERS}
        UNION ALL
        SELECT f.id, e.id, now() - j * interval '1 day'
        FROM su f CROSS JOIN generate_series(1, 5) AS j JOIN su e ON e.n = 1 + (f.n - 1 + j * 997) % ${USERS}
        WHERE f.n > 1`),
    );

    await step('counters (one UPDATE … FROM (… GROUP BY) each)', async () => {
      await db.query(`UPDATE posts p SET likes_count = c.n FROM (SELECT post_id, count(*)::int AS n FROM post_likes GROUP BY post_id) c WHERE p.id = c.post_id`);
      await db.query(`UPDATE posts p SET favorites_count = c.n FROM (SELECT post_id, count(*)::int AS n FROM post_favorites GROUP BY post_id) c WHERE p.id = c.post_id`);
      await db.query(`UPDATE posts p SET comments_count = c.n
                      FROM (SELECT post_id, count(*)::int AS n FROM comments WHERE deleted_at IS NULL GROUP BY post_id) c WHERE p.id = c.post_id`);
      await db.query(`UPDATE post_totals SET public_posts = (SELECT count(*) FROM posts WHERE is_public)`);
      await db.query(`UPDATE comments m SET likes_count = c.n FROM (SELECT comment_id, count(*)::int AS n FROM comment_likes GROUP BY comment_id) c WHERE m.id = c.comment_id`);
      // follow_counts has no rows yet: the same aggregate, inserted.
      await db.query(`
        INSERT INTO follow_counts (user_id, followers_count, following_count)
        SELECT user_id, sum(followers)::int, sum(following)::int
        FROM (SELECT followee_id AS user_id, 1 AS followers, 0 AS following FROM follows
              UNION ALL SELECT follower_id, 0, 1 FROM follows) AS f
        GROUP BY user_id`);
    });
  } finally {
    for (const [table, trigger] of COUNTER_TRIGGERS) await db.query(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
  }

  // The counter UPDATEs wrote most posts three times and comments twice; tables grown row by row
  // over a year would not carry those dead versions (autovacuum), so compact them before measuring.
  await step('VACUUM FULL posts, comments; VACUUM ANALYZE', async () => {
    await db.query('VACUUM FULL posts');
    await db.query('VACUUM FULL comments');
    await db.query('VACUUM ANALYZE');
  });

  await verifyCounters(db);

  const { rows: [facts] } = await db.query<{ follower: string; public_posts: number; followed_public: number; busy_top: number }>(`
    SELECT (SELECT id FROM su WHERE n = 1) AS follower,
           (SELECT count(*)::int FROM posts WHERE is_public) AS public_posts,
           (SELECT count(*)::int FROM posts p JOIN follows f ON f.followee_id = p.user_id
             WHERE p.is_public AND f.follower_id = (SELECT id FROM su WHERE n = 1)) AS followed_public,
           (SELECT count(*)::int FROM comments WHERE post_id = $1 AND parent_id IS NULL) AS busy_top`, [busyPostId]);
  const { rows: [counts] } = await db.query(`
    SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM posts) AS posts,
           (SELECT count(*)::int FROM posts WHERE NOT is_public) AS private_posts,
           (SELECT count(*)::int FROM post_likes) AS likes, (SELECT max(likes_count) FROM posts) AS max_likes,
           (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY likes_count) FROM posts) AS median_likes,
           (SELECT count(*)::int FROM post_favorites) AS favorites,
           (SELECT count(*)::int FROM comments) AS comments, (SELECT count(*)::int FROM comments WHERE parent_id IS NOT NULL) AS replies,
           (SELECT count(*)::int FROM comments WHERE deleted_at IS NOT NULL) AS deleted_comments,
           (SELECT count(*)::int FROM comment_likes) AS comment_likes,
           (SELECT comments_count FROM posts WHERE id = $1) AS busy_comments,
           (SELECT max(depth) FROM comments WHERE post_id = $1) AS busy_depth,
           (SELECT count(*)::int FROM follows) AS follows,
           (SELECT following_count FROM follow_counts WHERE user_id = $2) AS follower_following`, [busyPostId, facts.follower]);
  if (counts.busy_comments !== BUSY_LEVELS.reduce((a, b) => a + b, 0) || counts.follower_following !== FOLLOWING) {
    throw new Error(`seed: busy post has ${counts.busy_comments} comments, follower follows ${counts.follower_following}`);
  }
  return {
    busyPostId,
    followerId: facts.follower,
    publicPosts: facts.public_posts,
    followedPublicPosts: facts.followed_public,
    busyTopLevel: facts.busy_top,
    counts,
  };
}

/** Every counter against COUNT(*) of what it counts; throws on any difference. */
async function verifyCounters(db: Client): Promise<void> {
  const { rows: [bad] } = await db.query<Record<string, number>>(`
    SELECT
      (SELECT count(*)::int FROM posts p LEFT JOIN (SELECT post_id, count(*)::int AS n FROM post_likes GROUP BY post_id) c ON c.post_id = p.id
        WHERE p.likes_count <> coalesce(c.n, 0)) AS "posts.likes_count",
      (SELECT count(*)::int FROM posts p LEFT JOIN (SELECT post_id, count(*)::int AS n FROM post_favorites GROUP BY post_id) c ON c.post_id = p.id
        WHERE p.favorites_count <> coalesce(c.n, 0)) AS "posts.favorites_count",
      (SELECT count(*)::int FROM posts p LEFT JOIN (SELECT post_id, count(*)::int AS n FROM comments WHERE deleted_at IS NULL GROUP BY post_id) c ON c.post_id = p.id
        WHERE p.comments_count <> coalesce(c.n, 0)) AS "posts.comments_count",
      (SELECT count(*)::int FROM comments m LEFT JOIN (SELECT comment_id, count(*)::int AS n FROM comment_likes GROUP BY comment_id) c ON c.comment_id = m.id
        WHERE m.likes_count <> coalesce(c.n, 0)) AS "comments.likes_count",
      (SELECT count(*)::int FROM users u LEFT JOIN follow_counts fc ON fc.user_id = u.id
        LEFT JOIN (SELECT followee_id, count(*)::int AS n FROM follows GROUP BY followee_id) a ON a.followee_id = u.id
        LEFT JOIN (SELECT follower_id, count(*)::int AS n FROM follows GROUP BY follower_id) b ON b.follower_id = u.id
        WHERE coalesce(fc.followers_count, 0) <> coalesce(a.n, 0) OR coalesce(fc.following_count, 0) <> coalesce(b.n, 0)) AS "follow_counts",
      (SELECT abs(public_posts - (SELECT count(*) FROM posts WHERE is_public))::int FROM post_totals) AS "post_totals.public_posts"`);
  const wrong = Object.entries(bad).filter(([, n]) => n !== 0);
  if (wrong.length) throw new Error(`seeded counters differ from COUNT(*): ${wrong.map(([name, n]) => `${name} on ${n} rows`).join(', ')}`);
  console.log('  counters checked: every one equals its COUNT(*)');
}

/** Sessions (inserted) and signed access tokens for the seeded users matching `where` (on su: n), as a login would issue them. */
async function tokensFor(db: Client, where: string): Promise<Array<{ userId: string; token: string }>> {
  const { rows } = await db.query<{ sid: string; user_id: string; username: string; email: string }>(`
    WITH s AS (
      INSERT INTO user_sessions (id, user_id, refresh_token_hash, expires_at)
      SELECT gen_random_uuid(), su.id, md5(random()::text) || md5(random()::text), now() + interval '1 day' FROM su WHERE ${where}
      RETURNING id, user_id)
    SELECT s.id AS sid, s.user_id, u.username, u.email FROM s JOIN users u ON u.id = s.user_id`);
  return rows.map((row) => ({
    userId: row.user_id,
    token: sign({ sub: row.user_id, email: row.email, username: row.username, role: 'user', sid: row.sid }, BENCH_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 3600,
    }),
  }));
}

// ---------------------------------------------------------------- the SQL behind the endpoints

interface Statement {
  sql: string;
  params: unknown[];
}

/** The statements a repository method sends, captured by a stand-in DataSource (answers are dummies). */
async function captured(run: (dataSource: any) => Promise<unknown>): Promise<Statement[]> {
  const statements: Statement[] = [];
  await run({
    query: async (sql: string, params: unknown[] = []) => {
      statements.push({ sql, params });
      return [{ total: 0 }];
    },
  });
  return statements;
}

interface Explained {
  medianMs: number;
  planningMs: number;
  scans: string;
  text: string;
}

function scansOf(plan: any, into: Set<string>): Set<string> {
  const type: string = plan['Node Type'];
  if (plan['Index Name']) into.add(`${type.replace(' Scan', '')} ${plan['Index Name']}`);
  else if (type === 'Seq Scan') into.add(`Seq Scan ${plan['Relation Name']}`);
  for (const child of plan.Plans ?? []) scansOf(child, into);
  return into;
}

/**
 * EXPLAIN ANALYZE `times` times (caches warm; TIMING OFF, so per-node clocks do not inflate the
 * figure): the median execution time, the scans; then once with timing, as text.
 */
async function explain(db: Client, { sql, params }: Statement, times = 7): Promise<Explained> {
  const runs: number[] = [];
  let planning = NaN;
  let scans = '';
  for (let i = 0; i < times; i++) {
    const { rows } = await db.query(`EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${sql}`, params);
    const top = rows[0]['QUERY PLAN'][0];
    runs.push(top['Execution Time']);
    planning = top['Planning Time'];
    scans = [...scansOf(top.Plan, new Set())].join(', ');
  }
  const { rows } = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
  return { medianMs: percentile(runs, 50), planningMs: planning, scans, text: rows.map((r) => r['QUERY PLAN']).join('\n') };
}

// ---------------------------------------------------------------- load with a token per request

interface RotatingResult extends LoadResult {
  /** CPU milliseconds per request: the app process, the database's backends (NaN when the server is not on this machine). */
  appCpuMs: number;
  dbCpuMs: number;
  /** Bytes of WAL written per request (by the whole server: run nothing else on it). */
  walBytes: number;
}

/**
 * The CPU seconds used so far by the app and by the database's backends (the pool's connections
 * live through the run), and the server's WAL position in bytes.
 */
type CpuMeter = () => Promise<{ app: number; db: number; wal: number }>;

/** autocannon where every request is made by `next()` (its own path and token), with what each request cost. */
async function loadRotating(base: string, method: 'GET' | 'POST', next: () => { path: string; token: string }, cpu: CpuMeter): Promise<RotatingResult> {
  const result = await runLoad(
    {
      url: base,
      method,
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      warmupSeconds: WARMUP,
      next: () => {
        const { path, token } = next();
        return { path, headers: { authorization: `Bearer ${token}` } };
      },
    },
    cpu,
  );
  return {
    ...result,
    appCpuMs: (result.used.app * 1000) / result.requests,
    dbCpuMs: (result.used.db * 1000) / result.requests,
    walBytes: result.used.wal / result.requests,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  console.log(`bench:community — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { serverUrl, source } = await findPostgresServer();
  const database = await createBenchDatabase(serverUrl);
  console.log(`database: ${database.name} on ${source}; ${RUNS} sequential samples each; load ${CONNECTIONS} connections, ${DURATION} s after ${WARMUP} s`);

  const app: ChildServer = await startAppChild(database.url, { SCHEDULER_ENABLED: 'false' });
  const db = new Client({ connectionString: database.url });
  await db.connect();
  try {
    console.log('seeding:');
    const started = Date.now();
    const seeded = await seed(db);
    const c = seeded.counts;
    console.log(
      `seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${c.users} users, ${c.posts} posts (${c.private_posts} private), ` +
        `${c.likes} likes (max ${c.max_likes} on a post, median ${c.median_likes}), ${c.favorites} favorites, ` +
        `${c.comments} comments (${c.replies} replies, ${c.deleted_comments} deleted), ${c.comment_likes} comment likes, ${c.follows} follows; ` +
        `busy post: ${c.busy_comments} comments (${seeded.busyTopLevel} top-level, depth ≤ ${c.busy_depth}); follower follows ${c.follower_following}`,
    );

    const [follower] = await tokensFor(db, 'n = 1');
    const loadUsers = await tokensFor(db, `n BETWEEN ${LOAD_USERS.from} AND ${LOAD_USERS.to}`);
    const auth = { authorization: `Bearer ${follower.token}` };

    // ---- sequential reads
    const getJson = async (path: string): Promise<any> => {
      const response = await fetch(`${app.url}/api/v1${path}`, { headers: auth });
      const body = await response.json();
      if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`);
      return body;
    };
    const listing = (path: string, total: number) => async () => {
      const body = await getJson(path);
      if (body.posts?.length !== PAGE_SIZE || body.pagination?.total !== total) {
        throw new Error(`GET ${path}: ${body.posts?.length} posts, total ${body.pagination?.total} (expected ${PAGE_SIZE}, ${total})`);
      }
    };
    const commentsPath = `/community/posts/${seeded.busyPostId}/comments`;
    const { rows: [pageOne] } = await db.query<{ n: number }>(`
      SELECT count(*)::int AS n FROM comments c
      WHERE c.root_id IN (SELECT id FROM comments WHERE post_id = $1 AND parent_id IS NULL ORDER BY created_at, id LIMIT ${PAGE_SIZE})`,
      [seeded.busyPostId]);
    const countNodes = (nodes: any[]): number => nodes.reduce((sum, node) => sum + 1 + countNodes(node.replies), 0);
    const comments = async () => {
      const body = await getJson(commentsPath);
      if (body.comments?.length !== PAGE_SIZE || body.pagination?.total !== seeded.busyTopLevel) {
        throw new Error(`GET ${commentsPath}: ${body.comments?.length} threads, total ${body.pagination?.total}`);
      }
    };
    // Once, fully: the following feed holds only followed authors, the comment page every reply of its threads.
    const { rows: followees } = await db.query<{ id: string }>('SELECT followee_id AS id FROM follows WHERE follower_id = $1', [seeded.followerId]);
    const followeeIds = new Set(followees.map((row) => row.id));
    const feed = await getJson('/community/posts?following=true');
    if (!feed.posts.every((post: any) => followeeIds.has(post.author?.id))) throw new Error('following=true listed a post by someone not followed');
    const thread = await getJson(commentsPath);
    const nodes = countNodes(thread.comments);
    if (nodes !== pageOne.n) throw new Error(`comments page 1 holds ${nodes} comments, the database ${pageOne.n}`);

    const cases: Array<{ key: string; name: string; path: string; run: () => Promise<void>; goal?: number }> = [
      { key: 'latest1', name: '(a) posts sort=latest page 1', path: '/community/posts?sort=latest', goal: GOAL_LIST_P95_MS },
      { key: 'latest50', name: '(a) posts sort=latest page 50', path: '/community/posts?sort=latest&page=50', goal: GOAL_LIST_P95_MS },
      { key: 'popular1', name: '(a) posts sort=popular page 1', path: '/community/posts?sort=popular', goal: GOAL_LIST_P95_MS },
      { key: 'popular50', name: '(a) posts sort=popular page 50', path: '/community/posts?sort=popular&page=50', goal: GOAL_LIST_P95_MS },
      { key: 'following', name: `(b) following=true (${FOLLOWING} followed), latest`, path: '/community/posts?following=true', goal: GOAL_FOLLOWING_P95_MS },
      { key: 'followingPopular', name: '(b) following=true, sort=popular (reference)', path: '/community/posts?following=true&sort=popular' },
      { key: 'comments', name: `(c) comments page 1, post with ${c.busy_comments} (${nodes} in the page)`, path: commentsPath, goal: GOAL_COMMENTS_P95_MS },
    ].map((entry) => ({
      ...entry,
      run: entry.key === 'comments'
        ? comments
        : listing(entry.path, entry.key.startsWith('following') ? seeded.followedPublicPosts : seeded.publicPosts),
    }));
    const samples = new Map<string, number[]>();
    for (const entry of cases) {
      console.log(`${entry.name} ...`);
      samples.set(entry.key, await timeSequential(RUNS, entry.run, 20));
    }

    // ---- the SQL behind them
    const actor = { userId: seeded.followerId, admin: false };
    const posts = (filters: PostFilters, page: number) => captured((ds) => new PostRepository(ds).list(actor, filters, { page, limit: PAGE_SIZE }));
    const statements: Array<[string, Statement]> = [];
    const addList = async (name: string, filters: PostFilters, page: number) => {
      for (const statement of await posts(filters, page)) {
        statements.push([`${name}: ${statement.sql.trimStart().startsWith('SELECT count') ? 'count' : 'page'}`, statement]);
      }
    };
    await addList('(a) latest p1', { sort: 'latest' }, 1);
    await addList('(a) latest p50', { sort: 'latest' }, 50);
    await addList('(a) popular p1', { sort: 'popular' }, 1);
    await addList('(a) popular p50', { sort: 'popular' }, 50);
    await addList('(b) following latest', { sort: 'latest', following: seeded.followerId }, 1);
    await addList('(b) following popular', { sort: 'popular', following: seeded.followerId }, 1);
    const [threads] = await captured((ds) => new CommentRepository(ds).threadsPage(seeded.busyPostId, seeded.followerId, { page: 1, limit: PAGE_SIZE }));
    statements.push(['(c) comments p1: threads', threads]);
    const plans: Array<[string, Explained]> = [];
    for (const [name, statement] of statements) plans.push([name, await explain(db, statement)]);

    // ---- (d) likes vs /users/me, a token per request
    const { rows: publicIds } = await db.query<{ id: string }>('SELECT id FROM posts WHERE is_public');
    const anyUser = () => loadUsers[randomInt(loadUsers.length)];
    const cpu: CpuMeter = async () => {
      const pids = await backendPids(serverUrl, database.name);
      const { rows: [wal] } = await db.query<{ bytes: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS bytes`);
      return { app: processCpuSeconds(app.pid), db: pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0), wal: Number(wal.bytes) };
    };
    const likeCheck = await fetch(`${app.url}/api/v1/community/posts/${publicIds[0].id}/like`, { method: 'POST', headers: { authorization: `Bearer ${loadUsers[0].token}` } });
    if (likeCheck.status !== 200) throw new Error(`POST like answered ${likeCheck.status}: ${await likeCheck.text()}`);
    console.log(`(d) GET /users/me, ${loadUsers.length} users in rotation ...`);
    const me = await loadRotating(app.url, 'GET', () => ({ path: '/api/v1/users/me', token: anyUser().token }), cpu);
    console.log(`(d) POST /community/posts/<random public post>/like, ${loadUsers.length} users in rotation ...`);
    const { rows: [beforeLikes] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM post_likes');
    const like = await loadRotating(app.url, 'POST', () => ({
      path: `/api/v1/community/posts/${publicIds[randomInt(publicIds.length)].id}/like`,
      token: anyUser().token,
    }), cpu);
    const { rows: [afterLikes] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM post_likes');
    let consistent = true;
    try {
      await verifyCounters(db);
    } catch (error) {
      consistent = false;
      console.log(`after the load: ${(error as Error).message}`);
    }
    const ratio = like.reqPerSec / me.reqPerSec;

    // ---- report
    const row = (name: string, values: number[]) => [name, ms(percentile(values, 50)), ms(percentile(values, 95)), ms(percentile(values, 99)), ms(Math.max(...values))];
    printTable(`Latency (sequential HTTP requests, JWT, ${RUNS} samples)`, ['what', 'p50', 'p95', 'p99', 'max'], cases.map((entry) => row(entry.name, samples.get(entry.key)!)));
    printTable(
      'SQL (EXPLAIN ANALYZE, TIMING OFF, median of 7; a list runs its page and its count concurrently, on two connections)',
      ['statement', 'exec', 'plan', 'scans'],
      plans.map(([name, p]) => [name, ms(p.medianMs), ms(p.planningMs), p.scans]),
    );
    const statusText = (r: RotatingResult) => Object.entries(r.statuses).map(([code, n]) => `${code}×${n}`).join(' ');
    printTable(
      `Load (autocannon, ${CONNECTIONS} connections, ${DURATION} s after ${WARMUP} s, a token of ${loadUsers.length} users per request)`,
      ['target', 'req/s', 'p50', 'p95', 'p99', 'max', 'requests', 'statuses', 'non-2xx/err/timeout', 'CPU/req app', 'CPU/req db', 'WAL/req'],
      [['GET /api/v1/users/me', me] as const, ['POST /api/v1/community/posts/:id/like', like] as const].map(([name, r]) => [
        name, num(r.reqPerSec), ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), String(r.requests), statusText(r), `${r.non2xx}/${r.errors}/${r.timeouts}`,
        ms(r.appCpuMs), ms(r.dbCpuMs), `${num(r.walBytes / 1024, 1)} kB`,
      ]),
    );
    console.log(`\nlike ÷ /users/me req/s: ${ratio.toFixed(3)}×; post_likes rows ${beforeLikes.n} → ${afterLikes.n} (net ${afterLikes.n - beforeLikes.n}, warm-up included)`);
    console.log(`counters after the load: ${consistent ? 'every likes_count equals its rows' : 'MISMATCH (see above)'}`);
    if (SHOW_PLANS) for (const [name, p] of plans) console.log(`\n-- ${name}\n${p.text}`);

    const p95 = (key: string) => percentile(samples.get(key)!, 95);
    const goals: Goal[] = cases
      .filter((entry) => entry.goal !== undefined)
      .map((entry) => ({ name: `${entry.name} p95`, actual: ms(p95(entry.key)), target: `≤ ${entry.goal} ms`, pass: p95(entry.key) <= entry.goal! }));
    const clean = (r: RotatingResult) => r.requests > 0 && r.non2xx + r.errors + r.timeouts === 0;
    goals.push({
      name: '(d) like req/s vs /users/me (all 200)',
      actual: `${ratio.toFixed(3)}× (${num(like.reqPerSec)} / ${num(me.reqPerSec)})`,
      target: `≥ ${GOAL_LIKE_RATIO}×`,
      pass: ratio >= GOAL_LIKE_RATIO && clean(like) && clean(me) && consistent,
    });
    for (const [name, r] of [['/users/me', me], ['like', like]] as const) {
      if (!clean(r)) console.log(`warning: ${name} had ${r.non2xx} non-2xx (${statusText(r)}), ${r.errors} errors, ${r.timeouts} timeouts`);
    }
    printGoals(goals);
    console.log(`\nload average now ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
  } finally {
    await db.end();
  }
}

runBenchmark(main);
