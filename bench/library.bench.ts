import { cpus, loadavg } from 'node:os';
import { Client } from 'pg';
import {
  Goal,
  createBenchDatabase,
  findPostgresServer,
  ms,
  percentile,
  printGoals,
  printTable,
  registerUser,
  runBenchmark,
  startAppChild,
  timeSequential,
} from './support';

/**
 * `npm run bench:library`: the snippet library's reads on a realistic table.
 *
 * Seeds (SQL, in the database) 100 k snippets over 1000 users (~100 each), plus
 * a "typical" user with 100 and a "heavy" user with 1000, all with varied
 * titles, descriptions and code in Python and JavaScript. Then, one request at
 * a time (BENCH_RUNS samples each, default 200):
 *
 *  (a) GET /api/v1/code-library?q=<word> for the typical user;
 *  (b) the same for the heavy user (q searches only the caller's own snippets);
 *  (c) GET /api/v1/code-library (first page) for the heavy user.
 * And, for reference, the same q as SQL over all 100 k rows (no user filter):
 * whether the pg_trgm indexes serve it and how long PostgreSQL takes.
 *
 * Goals: (a) and (b) p95 ≤ 20 ms, (c) p95 ≤ 10 ms.
 * Knobs: BENCH_RUNS, BENCH_EMBEDDED=true.
 */

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const USERS = 1000;
const SNIPPETS = 100_000;
const WORD = 'dijkstra';

const TOPICS = [
  'fibonacci', 'quicksort', 'binary search', 'linked list', 'http client', 'csv parser', 'json formatter', 'prime sieve',
  'matrix multiply', 'web scraper', 'rate limiter', 'lru cache', 'date utils', 'string reverse', 'palindrome check',
  'word count', 'merge sort', 'dijkstra', 'bfs traversal', 'hash map',
];
const ADJECTIVES = ['simple', 'fast', 'recursive', 'iterative', 'memoized', 'generic', 'tiny', 'robust', 'lazy', 'streaming'];
const PURPOSES = [
  'handles empty input gracefully', 'works on large data sets', 'was written for an interview', 'is used in my side project',
  'shows the textbook approach', 'avoids extra allocations', 'has no dependencies', 'prints intermediate steps',
];

const literal = (values: string[]) => `ARRAY[${values.map((v) => `'${v}'`).join(', ')}]`;

/**
 * Inserts $2 snippets in one INSERT … SELECT; row i belongs to the i-th of the
 * user ids in $1 (round robin). Words are picked by hashing i, so the data is
 * varied but the same on every run.
 */
const SEED_SQL = `
  WITH words AS (SELECT ${literal(TOPICS)} AS topics, ${literal(ADJECTIVES)} AS adjectives, ${literal(PURPOSES)} AS purposes)
  INSERT INTO snippets (id, user_id, title, description, code, language, tags, is_public, created_at, updated_at)
  SELECT gen_random_uuid(), ($1::uuid[])[1 + i % cardinality($1::uuid[])],
         initcap(adjective) || ' ' || topic || ' #' || i,
         'A ' || adjective || ' ' || topic || ' that ' || purpose || '.',
         CASE WHEN i % 3 = 0
           THEN 'function ' || ident || '(items) {' || chr(10) || '  // ' || topic || chr(10) || '  return items.map((x) => x * ' || i % 97 || ');' || chr(10) || '}' || chr(10) || 'console.log(' || ident || '([1, 2, 3]));'
           ELSE 'def ' || ident || '(items):' || chr(10) || '    """' || initcap(topic) || '."""' || chr(10) || '    return [x * ' || i % 97 || ' for x in items]' || chr(10) || chr(10) || 'print(' || ident || '([1, 2, 3]))'
         END,
         CASE WHEN i % 3 = 0 THEN 'javascript' ELSE 'python' END,
         ARRAY[split_part(topic, ' ', 1), adjective],
         i % 4 = 0,
         now() - i * interval '37 seconds', now()
  FROM generate_series(1, $2::int) AS i, words,
       LATERAL (SELECT topics[1 + abs(hashtext(i || 't')) % cardinality(topics)] AS topic,
                       adjectives[1 + abs(hashtext(i || 'a')) % cardinality(adjectives)] AS adjective,
                       purposes[1 + abs(hashtext(i || 'p')) % cardinality(purposes)] AS purpose) AS picked,
       LATERAL (SELECT replace(topic, ' ', '_') || '_' || i AS ident) AS named`;

async function seed(db: Client, typicalId: string, heavyId: string): Promise<void> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, password_hash)
     SELECT 'seed_' || i, 'seed_' || i || '@example.test', 'not-a-bcrypt-hash' FROM generate_series(1, $1::int) AS i
     RETURNING id`,
    [USERS],
  );
  await db.query(SEED_SQL, [rows.map((row) => row.id), SNIPPETS]);
  await db.query(SEED_SQL, [[typicalId], 100]);
  await db.query(SEED_SQL, [[heavyId], 1000]);
  // As autovacuum would: flush the GIN pending lists and give the planner statistics.
  await db.query('VACUUM ANALYZE snippets');
}

async function main(): Promise<void> {
  console.log(`bench:library — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { serverUrl, source } = await findPostgresServer();
  const database = await createBenchDatabase(serverUrl);
  console.log(`database: ${database.name} on ${source}; ${RUNS} sequential samples each`);

  const app = await startAppChild(database.url, { SCHEDULER_ENABLED: 'false' });
  const typical = await registerUser(app.url);
  const heavy = await registerUser(app.url);
  const db = new Client({ connectionString: database.url });
  await db.connect();
  try {
    const { rows: ids } = await db.query<{ id: string; username: string }>('SELECT id, username FROM users WHERE username = ANY($1)', [[typical.username, heavy.username]]);
    const idOf = (username: string) => ids.find((row) => row.username === username)!.id;
    const started = Date.now();
    await seed(db, idOf(typical.username), idOf(heavy.username));
    const { rows: [count] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM snippets');
    console.log(`seeded ${count.n} snippets over ${USERS + 2} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const get = (token: string, path: string, expectedTotal?: (total: number) => boolean) => async () => {
      const response = await fetch(`${app.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await response.json()) as { snippets?: unknown[]; pagination?: { total: number } };
      if (response.status !== 200 || !body.snippets) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`);
      if (expectedTotal && !expectedTotal(body.pagination!.total)) throw new Error(`GET ${path}: unexpected total ${body.pagination!.total}`);
    };
    const found = (total: number) => total > 0;
    console.log(`(a) q=${WORD}, typical user (100 snippets) ...`);
    const qTypical = await timeSequential(RUNS, get(typical.token, `/code-library?q=${WORD}`, found), 10);
    console.log(`(b) q=${WORD}, heavy user (1000 snippets) ...`);
    const qHeavy = await timeSequential(RUNS, get(heavy.token, `/code-library?q=${WORD}`, found), 10);
    console.log('(c) list, heavy user ...');
    const list = await timeSequential(RUNS, get(heavy.token, '/code-library', (total) => total === 1000), 10);
    const { rows: matches } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM snippets s JOIN users u ON u.id = s.user_id
       WHERE u.username = $1 AND (s.title ILIKE $2 OR s.description ILIKE $2 OR s.code ILIKE $2)`,
      [heavy.username, `%${WORD}%`],
    );

    // The same predicate over every user's rows, in PostgreSQL alone: shows the trigram indexes at work.
    const { rows: plan } = await db.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT s.id FROM snippets s
       WHERE s.title ILIKE $1 OR s.description ILIKE $1 OR s.code ILIKE $1 ORDER BY s.created_at DESC LIMIT 20`,
      [`%${WORD}%`],
    );
    const planText = JSON.stringify(plan[0]['QUERY PLAN']);
    const allRowsMs = plan[0]['QUERY PLAN'][0]['Execution Time'] as number;
    const usesTrgm = planText.includes('_trgm_idx') && !planText.includes('Seq Scan');

    const row = (name: string, samples: number[]) => [name, ms(percentile(samples, 50)), ms(percentile(samples, 95)), ms(percentile(samples, 99))];
    printTable('Latency (sequential HTTP requests, JWT)', ['what', 'p50', 'p95', 'p99'], [
      row(`(a) GET /code-library?q=${WORD}, user with 100 snippets`, qTypical),
      row(`(b) GET /code-library?q=${WORD}, user with 1000 snippets (${matches[0].n} match)`, qHeavy),
      row('(c) GET /code-library (page 1 of 50), user with 1000 snippets', list),
    ]);
    printTable('Reference (SQL only)', ['what', 'time', 'plan'], [
      [`q=${WORD} over all ${count.n} rows, no user filter`, ms(allRowsMs), usesTrgm ? 'pg_trgm GIN indexes (BitmapOr)' : 'NOT the trigram indexes'],
    ]);

    const p95 = (samples: number[]) => percentile(samples, 95);
    const goals: Goal[] = [
      { name: 'q search p95, user with 100 snippets', actual: ms(p95(qTypical)), target: '≤ 20 ms', pass: p95(qTypical) <= 20 },
      { name: 'q search p95, user with 1000 snippets', actual: ms(p95(qHeavy)), target: '≤ 20 ms', pass: p95(qHeavy) <= 20 },
      { name: 'list p95, user with 1000 snippets', actual: ms(p95(list)), target: '≤ 10 ms', pass: p95(list) <= 10 },
    ];
    printGoals(goals);
  } finally {
    await db.end();
  }
}

runBenchmark(main);
