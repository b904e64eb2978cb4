import { resourceTypeOf } from './audit-capture';
import { copyLine } from './audit-writer';

describe('resourceTypeOf', () => {
  it('names a route by its first resource segment, singular and snake_case', () => {
    expect(resourceTypeOf('/api/v1/api-keys/:id/toggle')).toBe('api_key');
    expect(resourceTypeOf('/api/v1/admin/users/:id')).toBe('user');
    expect(resourceTypeOf('/api/v1/auth/login')).toBe('auth');
  });
});

describe('copyLine', () => {
  it('escapes the characters COPY text format uses as delimiters and writes NULL as \\N', () => {
    const line = copyLine({
      created_at: new Date('2026-01-02T03:04:05.000Z'),
      user_id: null,
      action: 'a\tb',
      resource_type: 'line\nbreak',
      resource_id: 'back\\slash',
      status_code: 200,
      method: 'POST',
      path: '/x\r',
      ip: '127.0.0.1',
      user_agent: null,
      request_id: 'r',
      duration_ms: 3,
      metadata: { note: 'tab\there' },
    });
    expect(line.endsWith('\n')).toBe(true);
    const [id, ...fields] = line.slice(0, -1).split('\t');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(fields).toHaveLength(13);
    expect(fields[0]).toBe('2026-01-02T03:04:05.000Z');
    expect(fields[1]).toBe('\\N');
    expect(fields[2]).toBe('a\\tb');
    expect(fields[3]).toBe('line\\nbreak');
    expect(fields[4]).toBe('back\\\\slash');
    expect(fields[7]).toBe('/x\\r');
    expect(fields[12]).toBe('{"note":"tab\\\\there"}');
  });
});
