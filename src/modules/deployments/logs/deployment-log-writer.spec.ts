import { DataSource } from 'typeorm';
import { readAppConfig } from '../../../config/app-config';
import { AppLogger } from '../../../common/logging/app-logger';
import { MAX_LINE_BYTES } from '../runtime/app-sandbox';
import { DeploymentLogRow } from './deployment-log';
import { DeploymentLogWriter, storableMessage } from './deployment-log-writer';
import { DeploymentLogRepository } from './deployment-log.repository';

const APP = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const OTHER = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c';

/** A writer whose COPY goes to an array, on a clock the test moves. */
function writerWith(linesPerSecond = 10) {
  const written: DeploymentLogRow[] = [];
  const repository = { deleteAll: jest.fn(async () => 3) } as unknown as DeploymentLogRepository;
  const config = readAppConfig({ DEPLOY_LOG_LINES_PER_SECOND: String(linesPerSecond) });
  const writer = new DeploymentLogWriter({} as DataSource, new AppLogger('silent'), config, repository);
  jest.spyOn(writer, 'copy').mockImplementation(async (rows) => {
    written.push(...rows);
  });
  return { writer, written, repository };
}

let now = Date.parse('2026-12-02T10:00:00.000Z');
beforeEach(() => {
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => {
  jest.restoreAllMocks();
});

describe('DeploymentLogWriter', () => {
  it('stores lines timed when appended, with default levels by source', async () => {
    const { writer, written } = writerWith();
    writer.append(APP, { source: 'stdout', message: 'out' });
    writer.append(APP, { source: 'stderr', message: 'err' });
    writer.append(APP, { source: 'platform', message: 'started', metadata: { version: 2 } });
    writer.append(APP, { source: 'stderr', level: 'error', message: 'boom' });
    await writer.flush();
    expect(written.map((r) => [r.source, r.level, r.message])).toEqual([
      ['stdout', 'info', 'out'], ['stderr', 'warn', 'err'], ['platform', 'info', 'started'], ['stderr', 'error', 'boom'],
    ]);
    expect(written[0]).toMatchObject({ deploymentId: APP, createdAt: new Date(now), truncated: false, metadata: {} });
    expect(written[2].metadata).toEqual({ version: 2 });
  });

  it('cuts a line over 16 KB and flags it; keeps the flag of a line its caller cut', async () => {
    const { writer, written } = writerWith();
    writer.append(APP, { source: 'stdout', message: 'x'.repeat(MAX_LINE_BYTES + 10) });
    writer.append(APP, { source: 'stdout', message: 'x'.repeat(MAX_LINE_BYTES) });
    writer.append(APP, { source: 'stdout', message: 'cut before', truncated: true });
    await writer.flush();
    expect(written.map((r) => [Buffer.byteLength(r.message), r.truncated])).toEqual([[MAX_LINE_BYTES, true], [MAX_LINE_BYTES, false], [10, true]]);
  });

  it('drops output over the rate and says how many once the bucket has refilled, before the next line', async () => {
    const { writer, written } = writerWith(10); // burst of 20
    for (let i = 0; i < 25; i++) writer.append(APP, { source: 'stdout', message: `line ${i}` });
    expect(writer.rateLimited).toBe(5);
    // Platform lines are not limited, and another deployment has its own bucket.
    expect(writer.append(APP, { source: 'platform', message: 'health check failed', level: 'warn' })).toBe(true);
    expect(writer.append(OTHER, { source: 'stdout', message: 'other' })).toBe(true);
    now += 50; // half a token: still nothing
    expect(writer.append(APP, { source: 'stdout', message: 'too early' })).toBe(false);
    now += 100;
    expect(writer.append(APP, { source: 'stdout', message: 'after' })).toBe(true);
    await writer.flush();
    const mine = written.filter((r) => r.deploymentId === APP).map((r) => r.message);
    expect(mine.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i}`));
    expect(mine.slice(20)).toEqual(['health check failed', '6 lines dropped (over DEPLOY_LOG_LINES_PER_SECOND)', 'after']);
    const marker = written.find((r) => r.message.includes('dropped'))!;
    expect(marker).toMatchObject({ source: 'platform', level: 'warn', metadata: { dropped_lines: 6 } });
  });

  it('says in the deployment\'s logs how many lines a full queue dropped, once there is room', async () => {
    const { writer, written } = writerWith(1_000_000);
    // The database stalls: COPYs wait, the queue fills to its 100 000 lines.
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    (writer.copy as jest.Mock).mockImplementation(async (rows: DeploymentLogRow[]) => {
      await stalled;
      written.push(...rows);
    });
    let refused = 0;
    for (let i = 0; i < 100_010; i++) if (!writer.append(APP, { source: 'stdout', message: `l${i}` })) refused++;
    expect(refused).toBeGreaterThan(0);
    release();
    await writer.flush();
    await writer.flush();
    now += 10;
    expect(writer.append(APP, { source: 'stdout', message: 'after' })).toBe(true);
    await writer.flush();
    const tail = written.filter((r) => r.deploymentId === APP).slice(-2);
    expect(tail[0]).toMatchObject({ source: 'platform', level: 'warn', message: `${refused} lines dropped (log buffer full)`, metadata: { dropped_lines: refused, buffer_full: refused } });
    expect(tail[1].message).toBe('after');
    // Each refused line counted once (a marker that finds no room is not tried, so not counted too).
    expect(writer.dropped).toBe(refused);
  });

  it('never times a line before the one queued before it, even when the clock is set back', async () => {
    const { writer, written } = writerWith(1_000_000);
    writer.append(APP, { source: 'stdout', message: 'first' });
    now -= 5000;
    writer.append(APP, { source: 'stdout', message: 'second' });
    now += 5001;
    writer.append(APP, { source: 'stdout', message: 'third' });
    await writer.flush();
    expect(written.map((r) => r.createdAt.getTime() - written[0].createdAt.getTime())).toEqual([0, 0, 1]);
  });

  it('writes a flood in batches beside each other, each millisecond in one batch, in order', async () => {
    const { writer, written } = writerWith(1_000_000);
    const batches: DeploymentLogRow[][] = [];
    (writer.copy as jest.Mock).mockImplementation(async (rows: DeploymentLogRow[]) => {
      batches.push(rows);
      await new Promise((resolve) => setTimeout(resolve, 5));
      written.push(...rows);
    });
    for (let i = 0; i < 25_000; i++) {
      if (i % 7 === 0) now++;
      writer.append(APP, { source: 'stdout', message: `l${i}` });
    }
    await writer.flush();
    expect(written.map((r) => r.message)).toEqual(Array.from({ length: 25_000 }, (_, i) => `l${i}`));
    expect(batches.length).toBeGreaterThanOrEqual(3);
    const millisecondsOf = batches.map((rows) => new Set(rows.map((r) => r.createdAt.getTime())));
    for (let a = 0; a < batches.length; a++) for (let b = a + 1; b < batches.length; b++) for (const ms of millisecondsOf[a]) expect(millisecondsOf[b].has(ms)).toBe(false);
  });

  it('writes the marker of a deployment gone quiet once its bucket refills, and forgets idle buckets', async () => {
    const { writer, written } = writerWith(10);
    for (let i = 0; i < 23; i++) writer.append(APP, { source: 'stderr', message: `line ${i}` });
    writer.sweep(now); // no token yet: no marker
    now += 200;
    writer.sweep(now);
    await writer.flush();
    expect(written.at(-1)!.message).toBe('3 lines dropped (over DEPLOY_LOG_LINES_PER_SECOND)');
    const buckets = (writer as unknown as { buckets: Map<string, unknown> }).buckets;
    expect(buckets.size).toBe(1);
    now += 10_000;
    writer.sweep(now);
    expect(buckets.size).toBe(0);
  });

  it('says what was dropped on shutdown, refilled or not', async () => {
    const { writer, written } = writerWith(10);
    writer.onModuleInit();
    for (let i = 0; i < 21; i++) writer.append(APP, { source: 'stdout', message: `line ${i}` });
    await writer.beforeApplicationShutdown();
    expect(written).toHaveLength(21);
    expect(written.at(-1)!.message).toBe('1 lines dropped (over DEPLOY_LOG_LINES_PER_SECOND)');
  });

  it('asks for apps\' output to wait while the queue is over half full and the database keeps up, until it is down to a quarter', async () => {
    const { writer } = writerWith(1_000_000);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    jest.spyOn(writer, 'copy').mockImplementation(async () => gate);
    for (let i = 0; i < 60_000; i++) writer.append(APP, { source: 'stdout', message: `line ${i}` });
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.congested()).toBe(true);
    let drained = false;
    void writer.drained().then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    open();
    await writer.flush();
    expect([drained, writer.congested(), writer.pending]).toEqual([true, false, 0]);
  });

  it('lets apps\' output go on (lines drop instead) once a write fails or stalls', async () => {
    const failing = writerWith(1_000_000).writer;
    jest.spyOn(failing, 'copy').mockRejectedValue(Object.assign(new Error('connection terminated'), { code: 'ECONNRESET' }));
    for (let i = 0; i < 60_000; i++) failing.append(APP, { source: 'stdout', message: `line ${i}` });
    await failing.flush();
    expect(failing.pending).toBe(60_000);
    expect(failing.congested()).toBe(false);
    await failing.drained();

    const stalled = writerWith(1_000_000).writer;
    jest.spyOn(stalled, 'copy').mockImplementation(() => new Promise<void>(() => undefined));
    for (let i = 0; i < 60_000; i++) stalled.append(APP, { source: 'stdout', message: `line ${i}` });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stalled.congested()).toBe(true);
    const later = performance.now() + 6000;
    jest.spyOn(performance, 'now').mockImplementation(() => later);
    expect(stalled.congested()).toBe(false);
  });

  it('removeAll writes what is queued, then deletes the deployment\'s lines', async () => {
    const { writer, written, repository } = writerWith();
    writer.append(APP, { source: 'stdout', message: 'last words' });
    expect(await writer.removeAll(APP)).toBe(3);
    expect(written).toHaveLength(1);
    expect(repository.deleteAll).toHaveBeenCalledWith(APP);
  });
});

describe('storableMessage', () => {
  it('leaves a line within 16 KB alone', () => {
    expect(storableMessage('hello')).toEqual({ message: 'hello', truncated: false });
    const full = 'é'.repeat(MAX_LINE_BYTES / 2);
    expect(storableMessage(full)).toEqual({ message: full, truncated: false });
  });

  it('cuts at 16 KB of UTF-8, never inside a character', () => {
    // 3-byte characters: 16384 is not a multiple of 3, so the cut falls inside one.
    const { message, truncated } = storableMessage('€'.repeat(10_000));
    expect(truncated).toBe(true);
    expect(message).toBe('€'.repeat(Math.floor(MAX_LINE_BYTES / 3)));
    // A 4-byte character (a surrogate pair) across the limit.
    const cut = storableMessage(`${'a'.repeat(MAX_LINE_BYTES - 2)}😀tail`).message;
    expect(cut).toBe('a'.repeat(MAX_LINE_BYTES - 2));
    expect(cut.isWellFormed()).toBe(true);
  });

  it('replaces NUL characters, which PostgreSQL text refuses', () => {
    expect(storableMessage('a\0b')).toEqual({ message: 'a\uFFFDb', truncated: false });
  });
});
