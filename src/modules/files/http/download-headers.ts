import type { ByteRange } from '../storage/blob-store';

/**
 * `Content-Disposition: attachment` with the name twice (RFC 6266): a plain
 * ASCII `filename` for old clients (anything else replaced by `_`) and
 * `filename*` in UTF-8 for the rest. Always an attachment: an uploaded HTML or
 * SVG file is never rendered on the API's origin.
 */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** A text type gets its charset (contents are checked to be UTF-8 when they are told to be text). */
export function contentType(mimeType: string): string {
  return mimeType.startsWith('text/') || mimeType === 'application/json' || mimeType === 'image/svg+xml' ? `${mimeType}; charset=utf-8` : mimeType;
}

export type RangeAnswer = { kind: 'whole' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * A `Range` header against a blob of `size` bytes. One range is served
 * (`bytes=a-b`, `bytes=a-`, `bytes=-n`); several, or a unit other than bytes,
 * or a malformed header, get the whole file, as RFC 9110 allows a server to
 * ignore a Range it does not support. A range starting past the end is 416.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!header) return { kind: 'whole' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  const [first, last] = [match[1], match[2]];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return { kind: 'unsatisfiable' };
  if (end < start) return { kind: 'whole' };
  return { kind: 'partial', range: { start, end } };
}

/** Whether an `If-None-Match` header names `etag` (or is `*`). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}
