import { DataSource } from 'typeorm';
import { readAppConfig } from '../../config/app-config';
import { AppLogger } from '../../common/logging/app-logger';
import { AuditEntry } from './audit-entry';
import { AuditWriter } from './audit-writer';

function entry(i: number): AuditEntry {
  return {
    created_at: new Date(), user_id: null, action: `test.${i}`, resource_type: null, resource_id: null, status_code: 200,
    method: 'POST', path: '/x', ip: null, user_agent: null, request_id: null, duration_ms: null, metadata: {},
  };
}

/** PostgreSQL's refusal of a value, as pg reports it. */
const refused = () => Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' });

/**
 * A writer whose COPY goes to an array: it fails while `down` is set, like a
 * database outage, and refuses a whole batch holding an entry whose action is
 * `poison`, as PostgreSQL refuses a batch with one bad row.
 */
function writerWith(bufferSize: number, env: Record<string, string> = {}) {
  const written: AuditEntry[] = [];
  const state = { down: false, copies: 0 };
  const writer = new AuditWriter({} as DataSource, new AppLogger('silent'), readAppConfig({ AUDIT_BUFFER_SIZE: String(bufferSize), ...env }));
  jest.spyOn(writer, 'copy').mockImplementation(async (entries) => {
    state.copies++;
    if (state.down) throw new Error('connection refused');
    if (entries.some((e) => e.action === 'poison')) throw refused();
    written.push(...entries);
  });
  return { writer, written, state };
}

describe('AuditWriter', () => {
  it('writes buffered entries in order on flush', async () => {
    const { writer, written } = writerWith(1000);
    for (let i = 0; i < 10; i++) writer.record(entry(i));
    expect(written).toHaveLength(0);
    await writer.flush();
    expect(written.map((e) => e.action)).toEqual(Array.from({ length: 10 }, (_, i) => `test.${i}`));
    expect(writer.pending).toBe(0);
  });

  it('keeps entries while the database is down and writes them when it is back', async () => {
    const { writer, written, state } = writerWith(1000);
    state.down = true;
    for (let i = 0; i < 5; i++) writer.record(entry(i));
    await writer.flush();
    expect(written).toHaveLength(0);
    expect(writer.pending).toBe(5);
    state.down = false;
    writer.record(entry(5));
    await writer.flush();
    expect(written.map((e) => e.action)).toEqual(['test.0', 'test.1', 'test.2', 'test.3', 'test.4', 'test.5']);
  });

  it('drops and counts what does not fit in the bounded buffer', async () => {
    const { writer, written, state } = writerWith(100);
    state.down = true;
    for (let i = 0; i < 130; i++) writer.record(entry(i));
    expect(writer.pending).toBe(100);
    expect(writer.dropped).toBe(30);
    state.down = false;
    await writer.flush();
    expect(written).toHaveLength(100);
  });

  it('isolates entries the database refuses, writes the rest and dead-letters the offenders', async () => {
    const { writer, written } = writerWith(10_000);
    for (let i = 0; i < 1000; i++) writer.record(i === 17 || i === 640 ? { ...entry(i), action: 'poison' } : entry(i));
    await writer.flush();
    expect(written).toHaveLength(998);
    expect(writer.deadLettered).toBe(2);
    expect(writer.pending).toBe(0);
    // The trail goes on.
    writer.record(entry(1000));
    await writer.flush();
    expect(written.at(-1)!.action).toBe('test.1000');
  });

  it('durable: resolves once the entry is written, one batch for a burst', async () => {
    const { writer, written, state } = writerWith(1000);
    const waits = Array.from({ length: 50 }, (_, i) => writer.recordDurably(entry(i)));
    await Promise.all(waits);
    expect(written).toHaveLength(50);
    expect(state.copies).toBe(1);
  });

  it('durable: resolves for a dead-lettered entry and after the timeout while the database is down', async () => {
    const { writer, written, state } = writerWith(1000, { AUDIT_SYNC_TIMEOUT_MS: '100' });
    await writer.recordDurably({ ...entry(1), action: 'poison' });
    expect(writer.deadLettered).toBe(1);
    state.down = true;
    const started = Date.now();
    await writer.recordDurably(entry(2));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(writer.pending).toBe(1);
    state.down = false;
    await writer.flush();
    expect(written.map((e) => e.action)).toEqual(['test.2']);
  });

  it('flushes on shutdown', async () => {
    const { writer, written } = writerWith(1000);
    writer.onModuleInit();
    writer.record(entry(1));
    await writer.beforeApplicationShutdown();
    expect(written).toHaveLength(1);
  });
});
