import { COPY_HEADER, COPY_TRAILER } from '../../src/common/database/copy-encoding';

/** Reads a binary COPY stream back: one array of raw field values (null for NULL) per row. */
export function decodeCopyStream(stream: Buffer): Array<Array<Buffer | null>> {
  expect(stream.subarray(0, COPY_HEADER.length)).toEqual(COPY_HEADER);
  const rows: Array<Array<Buffer | null>> = [];
  let at = COPY_HEADER.length;
  for (;;) {
    const fields = stream.readInt16BE(at);
    at += 2;
    if (fields === -1) break;
    const row: Array<Buffer | null> = [];
    for (let i = 0; i < fields; i++) {
      const length = stream.readInt32BE(at);
      at += 4;
      row.push(length === -1 ? null : stream.subarray(at, at + length));
      if (length > 0) at += length;
    }
    rows.push(row);
  }
  expect(at).toBe(stream.length);
  expect(stream.subarray(-2)).toEqual(COPY_TRAILER);
  return rows;
}
