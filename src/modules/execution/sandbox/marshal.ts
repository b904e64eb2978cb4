/**
 * Encodes a job (and a runtime of sources, python-runtime.ts) for a sandbox in
 * Python's `marshal` format, which the sandbox reads with the built-in marshal
 * module (runtime/program.py, runtime/bootstrap.py): importing `json` would cost
 * a cold sandbox ~10 ms (it pulls in `re` and `enum`). Only what jobs hold:
 * null, booleans, 32-bit integers, strings, arrays and plain objects.
 */
export type Marshallable = null | boolean | number | string | Marshallable[] | { [key: string]: Marshallable };

export function marshal(value: Marshallable): Buffer {
  const parts: Buffer[] = [];
  write(value, parts);
  return Buffer.concat(parts);
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32LE(value);
  return buffer;
}

function write(value: Marshallable, parts: Buffer[]): void {
  if (value === null) parts.push(Buffer.from('N'));
  else if (value === true) parts.push(Buffer.from('T'));
  else if (value === false) parts.push(Buffer.from('F'));
  else if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new RangeError(`not a 32-bit integer: ${value}`);
    parts.push(Buffer.from('i'), int32(value));
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    parts.push(Buffer.from('u'), int32(bytes.length), bytes);
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from('['), int32(value.length));
    for (const item of value) write(item, parts);
  } else {
    parts.push(Buffer.from('{'));
    for (const [key, item] of Object.entries(value)) {
      write(key, parts);
      write(item, parts);
    }
    parts.push(Buffer.from('0'));
  }
}
