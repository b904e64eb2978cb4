import { DataSource } from 'typeorm';
import { AppLogger } from '../logging/app-logger';
import { BatchedCopyWriter, BatchedCopyWriterOptions } from './batched-copy-writer';
import { CopyRowEncoder, copyFromStdinSql } from './copy-encoding';

interface Row {
  name: string;
  size?: number;
}

/** The generic writer as its subclasses use it: rows queued with enqueue or enqueueDurably. */
class TestWriter extends BatchedCopyWriter<Row> {
  add(row: Row): boolean {
    return this.enqueue(row);
  }

  addDurably(row: Row, timeoutMs = 10_000): Promise<void> {
    return this.enqueueDurably(row, timeoutMs);
  }
}

function format(row: Row, encoder: CopyRowEncoder): void {
  encoder.startRow(1, 6 + 3 * row.name.length);
  encoder.text(row.name);
}

/** PostgreSQL's refusal of a value, as pg reports it. */
const refused = () => Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' });

/**
 * A writer whose COPY goes to an array: it fails while `down` is set, like a
 * database outage, and refuses a whole batch holding a row named `poison`, as
 * PostgreSQL refuses a batch with one bad row.
 */
function writerWith(options: Partial<BatchedCopyWriterOptions<Row>> = {}) {
  const written: Row[] = [];
  const state = { down: false, copies: 0, batches: [] as number[] };
  const writer = new TestWriter({} as DataSource, new AppLogger('silent'), {
    label: 'test', sql: copyFromStdinSql('t', ['name']), format, bufferSize: 1000, flushIntervalMs: 1000, ...options,
  });
  jest.spyOn(writer, 'copy').mockImplementation(async (rows) => {
    state.copies++;
    state.batches.push(rows.length);
    if (state.down) throw new Error('connection refused');
    if (rows.some((r) => r.name === 'poison')) throw refused();
    written.push(...rows);
  });
  return { writer, written, state };
}

const row = (i: number): Row => ({ name: `row.${i}` });
const names = (rows: Row[]) => rows.map((r) => r.name);

describe('BatchedCopyWriter', () => {
  it('writes queued rows in order on flush', async () => {
    const { writer, written } = writerWith();
    for (let i = 0; i < 10; i++) writer.add(row(i));
    expect(written).toHaveLength(0);
    expect(writer.pending).toBe(10);
    await writer.flush();
    expect(names(written)).toEqual(Array.from({ length: 10 }, (_, i) => `row.${i}`));
    expect(writer.pending).toBe(0);
    expect(writer.written).toBe(10);
  });

  it('writes in batches of batchSize, at once when one is full', async () => {
    const { writer, written, state } = writerWith({ batchSize: 100, writeConcurrency: 1 });
    for (let i = 0; i < 250; i++) writer.add(row(i));
    await new Promise((resolve) => setImmediate(resolve));
    await writer.flush();
    expect(written).toHaveLength(250);
    expect(state.batches).toEqual([100, 100, 50]);
  });

  it('keeps rows while the database is down and writes them, in order, when it is back', async () => {
    const { writer, written, state } = writerWith();
    state.down = true;
    for (let i = 0; i < 5; i++) writer.add(row(i));
    await writer.flush();
    expect(written).toHaveLength(0);
    expect(writer.pending).toBe(5);
    state.down = false;
    writer.add(row(5));
    await writer.flush();
    expect(names(written)).toEqual(['row.0', 'row.1', 'row.2', 'row.3', 'row.4', 'row.5']);
  });

  it('drops and counts what does not fit in the bounded queue', async () => {
    const { writer, written, state } = writerWith({ bufferSize: 100 });
    state.down = true;
    let accepted = 0;
    for (let i = 0; i < 130; i++) if (writer.add(row(i))) accepted++;
    expect(accepted).toBe(100);
    expect(writer.pending).toBe(100);
    expect(writer.dropped).toBe(30);
    state.down = false;
    await writer.flush();
    expect(written).toHaveLength(100);
  });

  it('bounds the memory rows take too, and frees it as they are written (or given back after a failure)', async () => {
    const { writer, written, state } = writerWith({ bufferBytes: 1000, rowBytes: (r) => r.size ?? 0 });
    state.down = true;
    for (let i = 0; i < 12; i++) writer.add({ name: `big.${i}`, size: 100 });
    expect(writer.pending).toBe(10);
    expect(writer.dropped).toBe(2);
    await writer.flush(); // fails: the rows go back and still count
    expect(writer.add({ name: 'one more', size: 100 })).toBe(false);
    expect(writer.add({ name: 'small', size: 0 })).toBe(true);
    state.down = false;
    await writer.flush();
    expect(written).toHaveLength(11);
    for (let i = 0; i < 10; i++) expect(writer.add({ name: `again.${i}`, size: 100 })).toBe(true);
  });

  it('isolates rows the database refuses, writes the rest and dead-letters the offenders', async () => {
    const { writer, written } = writerWith({ bufferSize: 10_000 });
    for (let i = 0; i < 1000; i++) writer.add(i === 17 || i === 640 ? { name: 'poison' } : row(i));
    await writer.flush();
    expect(written).toHaveLength(998);
    expect(writer.deadLettered).toBe(2);
    expect(writer.pending).toBe(0);
    writer.add(row(1000));
    await writer.flush();
    expect(written.at(-1)!.name).toBe('row.1000');
  });

  it('treats a row the encoder cannot encode as refused data', async () => {
    const writer = new TestWriter({} as DataSource, new AppLogger('silent'), {
      label: 'test', sql: 'COPY t (name) FROM STDIN WITH (FORMAT binary)', bufferSize: 10, flushIntervalMs: 1000,
      format: (r: Row, encoder: CopyRowEncoder) => {
        if (r.name === 'unencodable') throw new Error('no');
        format(r, encoder);
      },
    });
    const written: Row[] = [];
    jest.spyOn(writer, 'copy').mockImplementation(async (rows) => {
      // The real copy's encoding step, without a database.
      for (const chunk of (writer as unknown as { encoded(rows: Row[]): Iterable<Buffer> }).encoded(rows)) void chunk;
      written.push(...rows);
    });
    writer.add(row(1));
    writer.add({ name: 'unencodable' });
    writer.add(row(2));
    await writer.flush();
    expect(names(written)).toEqual(['row.1', 'row.2']);
    expect(writer.deadLettered).toBe(1);
  });

  it('durable: resolves once the row is written, one batch for a burst', async () => {
    const { writer, written, state } = writerWith();
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.addDurably(row(i))));
    expect(written).toHaveLength(50);
    expect(state.copies).toBe(1);
  });

  it('durable: resolves for a dead-lettered row, a dropped one, and after the timeout while the database is down', async () => {
    const { writer, written, state } = writerWith({ bufferSize: 1 });
    await writer.addDurably({ name: 'poison' });
    expect(writer.deadLettered).toBe(1);
    state.down = true;
    const started = Date.now();
    await writer.addDurably(row(2), 100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(writer.pending).toBe(1);
    await writer.addDurably(row(3), 60_000); // the queue is full: dropped, resolved at once
    expect(writer.dropped).toBe(1);
    state.down = false;
    await writer.flush();
    expect(names(written)).toEqual(['row.2']);
  });

  it('writes a second batch beside the first when a whole one waits, never rows of one order key in both', async () => {
    // Rows keyed by their millisecond (size), 4 a millisecond; each COPY waits until the test lets it go.
    const { writer, written } = writerWith({ batchSize: 10, writeConcurrency: 2, orderKey: (r) => r.size! });
    const running: Array<{ rows: Row[]; done: () => void }> = [];
    const overlaps: string[] = [];
    (writer.copy as jest.Mock).mockImplementation((rows: Row[]) => {
      for (const other of running) {
        const keys = new Set(other.rows.map((r) => r.size));
        if (rows.some((r) => keys.has(r.size))) overlaps.push(`${names(rows).join()} beside ${names(other.rows).join()}`);
      }
      return new Promise<void>((resolve) => {
        const entry = { rows, done: () => {
          running.splice(running.indexOf(entry), 1);
          written.push(...rows);
          resolve();
        } };
        running.push(entry);
      });
    });
    for (let i = 0; i < 40; i++) writer.add({ name: `row.${i}`, size: Math.floor(i / 4) });
    await new Promise((resolve) => setImmediate(resolve));
    // Two at once, each cut where the millisecond changes (10 rows would split millisecond 2).
    expect(running.map((r) => r.rows.length)).toEqual([8, 8]);
    while (running.length > 0) {
      running[0].done();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writer.flush();
    expect(overlaps).toEqual([]);
    expect(names(written)).toEqual(Array.from({ length: 40 }, (_, i) => `row.${i}`));
  });

  it('does not start a batch beside one holding its first row\'s key', async () => {
    const { writer, written } = writerWith({ batchSize: 4, writeConcurrency: 2, orderKey: (r) => r.size! });
    let release!: () => void;
    const calls: string[][] = [];
    (writer.copy as jest.Mock).mockImplementation(async (rows: Row[]) => {
      calls.push(names(rows));
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
      written.push(...rows);
    });
    // All in one millisecond: the first batch takes 4, the rest must wait for it.
    for (let i = 0; i < 8; i++) writer.add({ name: `row.${i}`, size: 7 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(1);
    release();
    await writer.flush();
    expect(calls).toEqual([['row.0', 'row.1', 'row.2', 'row.3'], ['row.4', 'row.5', 'row.6', 'row.7']]);
  });

  it('gives the rows of two failed batches back in their order, and counts rows being written against the bound', async () => {
    const { writer, written, state } = writerWith({ batchSize: 3, writeConcurrency: 2, bufferSize: 8 });
    const failures: Array<() => void> = [];
    (writer.copy as jest.Mock).mockImplementation(async (rows: Row[]) => {
      if (state.down) {
        await new Promise<void>((resolve) => failures.push(resolve));
        throw new Error('connection refused');
      }
      written.push(...rows);
    });
    state.down = true;
    for (let i = 0; i < 6; i++) writer.add(row(i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toHaveLength(2);
    // Being written still counts: 6 held, room for 2 more.
    expect(writer.pending).toBe(6);
    expect(writer.add(row(6))).toBe(true);
    expect(writer.add(row(7))).toBe(true);
    expect(writer.add(row(8))).toBe(false);
    // The first batch fails first: the second's rows must go back behind its rows, not before them.
    failures[0]();
    await new Promise((resolve) => setImmediate(resolve));
    failures[1]();
    await new Promise((resolve) => setImmediate(resolve));
    state.down = false;
    await writer.flush();
    expect(names(written)).toEqual(Array.from({ length: 8 }, (_, i) => `row.${i}`));
    expect(writer.pending).toBe(0);
  });

  it('flush waits for the rows queued before it, not for those a flood keeps adding; shutdown writes those too', async () => {
    const { writer, written } = writerWith({ batchSize: 2, writeConcurrency: 1, bufferSize: 10_000 });
    let added = 0;
    // Every COPY brings two more rows, as a flooding app would: the writer is never idle.
    (writer.copy as jest.Mock).mockImplementation(async (rows: Row[]) => {
      written.push(...rows);
      if (added < 200) for (let i = 0; i < 2; i++) writer.add(row(1000 + added++));
    });
    for (let i = 0; i < 4; i++) writer.add(row(i));
    await writer.flush();
    expect(names(written).slice(0, 4)).toEqual(['row.0', 'row.1', 'row.2', 'row.3']);
    expect(added).toBeLessThan(200);
    await writer.beforeApplicationShutdown();
    expect(written).toHaveLength(204);
    expect(writer.pending).toBe(0);
  });

  it('writes on its interval once started, and flushes on shutdown', async () => {
    const { writer, written } = writerWith({ flushIntervalMs: 20 });
    writer.onModuleInit();
    writer.add(row(1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(names(written)).toEqual(['row.1']);
    writer.add(row(2));
    await writer.beforeApplicationShutdown();
    expect(names(written)).toEqual(['row.1', 'row.2']);
  });
});
