import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { marshal, Marshallable } from './marshal';

describe('marshal', () => {
  it('is read back by Python as the same value', () => {
    const value = { a: null, b: true, c: false, n: -5, big: 2 ** 31 - 1, s: 'héllo ✓ 日本\n"', list: [1, 'x', [], {}], nested: { k: ['v'] } };
    const script = 'import marshal, sys, json; print(json.dumps(marshal.loads(sys.stdin.buffer.read()), ensure_ascii=False))';
    const out = execFileSync('/usr/bin/python3', ['-c', script], { input: marshal(value) }).toString();
    expect(JSON.parse(out)).toEqual(value);
  });

  it('encodes the job of runtime/tests/job.marshal.json to its bytes (which the Python tests decode)', () => {
    const fixture = JSON.parse(readFileSync(join(__dirname, 'runtime', 'tests', 'job.marshal.json'), 'utf8')) as { value: Marshallable; marshalled: string };
    expect(marshal(fixture.value).toString('hex')).toBe(fixture.marshalled);
  });

  it('refuses numbers it cannot encode', () => {
    expect(() => marshal({ x: 2 ** 31 })).toThrow(RangeError);
    expect(() => marshal({ x: 1.5 })).toThrow(RangeError);
  });
});
