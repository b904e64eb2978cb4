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

/** A writer whose COPY goes to an array, and fails while `down` is set, like a database outage. */
function writerWith(bufferSize: number) {
  const written: AuditEntry[] = [];
  const state = { down: false };
  const writer = new AuditWriter({} as DataSource, new AppLogger('silent'), readAppConfig({ AUDIT_BUFFER_SIZE: String(bufferSize) }));
  jest.spyOn(writer, 'copy').mockImplementation(async (entries) => {
    if (state.down) throw new Error('connection refused');
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

  it('flushes on shutdown', async () => {
    const { writer, written } = writerWith(1000);
    writer.onModuleInit();
    writer.record(entry(1));
    await writer.beforeApplicationShutdown();
    expect(written).toHaveLength(1);
  });
});
