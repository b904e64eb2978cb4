import { AppError } from '../../common/errors/app-error';
import { CONTROL_OR_DECEPTIVE } from '../../common/http/display-text';

/** Limits on names and paths, in UTF-8 bytes (what most file systems count). */
export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 1024;

// Characters that stand in for a slash, a backslash or a dot to the eye (or to a
// later NFKC normalization): a name holding them is refused like the originals.
const LOOKALIKES = /[\u2215\u2044\u29f8\uff0f\u29f5\u29f9\uff3c\u2024\uff0e\ufe52]/u;

/** A lone UTF-16 surrogate: not valid Unicode, cannot be stored as UTF-8. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * A file or folder name as given, checked and in NFC. Refused (400, never
 * silently changed otherwise): empty, `.`, holding `..`, holding `/`, `\`, NUL or
 * another control character, their look-alikes, a lone surrogate, or longer
 * than 255 bytes.
 */
export function normalizeName(raw: string, what = 'name'): string {
  if (LONE_SURROGATE.test(raw)) throw AppError.badRequest(`The ${what} is not valid Unicode`);
  const name = raw.normalize('NFC');
  if (name.length === 0) throw AppError.badRequest(`The ${what} is empty`);
  if (name === '.' || name.includes('..')) throw AppError.badRequest(`The ${what} cannot be "." or hold ".."`);
  if (name.includes('/') || name.includes('\\')) throw AppError.badRequest(`The ${what} cannot hold "/" or "\\"`);
  if (CONTROL_OR_DECEPTIVE.test(name)) throw AppError.badRequest(`The ${what} cannot hold NUL or other control characters`);
  if (LOOKALIKES.test(name)) throw AppError.badRequest(`The ${what} cannot hold characters that look like "/", "\\" or "."`);
  if (name.trim() !== name) throw AppError.badRequest(`The ${what} cannot begin or end with white space`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw AppError.badRequest(`The ${what} is longer than ${MAX_NAME_BYTES} bytes`);
  return name;
}

/**
 * A folder path: `/` or `/a/b`, in NFC, each segment a valid name. A leading
 * slash is optional and one trailing slash is dropped (`a/b/` is `/a/b`); empty
 * segments (`a//b`), `.` and `..` are refused, as is anything over 1024 bytes.
 * No percent-decoding happens here: `%2e%2e` is a literal (and valid) name.
 */
export function normalizeFolder(raw: string | undefined): string {
  if (raw === undefined || raw === '' || raw === '/') return '/';
  if (LONE_SURROGATE.test(raw)) throw AppError.badRequest('The path is not valid Unicode');
  let path = raw.normalize('NFC');
  if (path.startsWith('/')) path = path.slice(1);
  if (path.endsWith('/')) path = path.slice(0, -1);
  const segments = path.split('/').map((segment) => {
    if (segment === '') throw AppError.badRequest('The path has an empty segment ("//")');
    return normalizeName(segment, 'path segment');
  });
  const folder = `/${segments.join('/')}`;
  if (Buffer.byteLength(folder) > MAX_PATH_BYTES) throw AppError.badRequest(`The path is longer than ${MAX_PATH_BYTES} bytes`);
  return folder;
}

/** `/a/b` + `c` → `/a/b/c`. */
export function joinPath(folder: string, name: string): string {
  return folder === '/' ? `/${name}` : `${folder}/${name}`;
}

/** Each folder from the root down to `folder`, as [parent, name] pairs: `/a/b` → [['/', 'a'], ['/a', 'b']]. */
export function ancestry(folder: string): [string, string][] {
  if (folder === '/') return [];
  const names = folder.slice(1).split('/');
  return names.map((name, i) => [i === 0 ? '/' : `/${names.slice(0, i).join('/')}`, name]);
}

/** `/a/b/c.txt` → { folder: '/a/b', name: 'c.txt' } (a project file's path). */
export function splitFilePath(raw: string): { folder: string; name: string } {
  if (raw.includes('//')) throw AppError.badRequest('The path has an empty segment ("//")');
  const trimmed = raw.startsWith('/') ? raw.slice(1) : raw;
  const cut = trimmed.lastIndexOf('/');
  const folder = normalizeFolder(cut === -1 ? '/' : trimmed.slice(0, cut));
  const name = normalizeName(trimmed.slice(cut + 1));
  if (Buffer.byteLength(joinPath(folder, name)) > MAX_PATH_BYTES) throw AppError.badRequest(`The path is longer than ${MAX_PATH_BYTES} bytes`);
  return { folder, name };
}
