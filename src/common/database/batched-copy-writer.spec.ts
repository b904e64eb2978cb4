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
