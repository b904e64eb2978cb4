/**
 * Checks on the text of a request that run before anything else reads it:
 * they turn input that would otherwise fail deep inside a library (a stack
 * overflow, a URIError) into a plain 400. Each is cheap for ordinary input,
 * since they run on every request that carries such text.
 */

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]

/**
 * Whether JSON text nests objects and arrays deeper than `maxDepth`, counting
 * brackets outside strings. Malformed text gives some answer; JSON.parse
 * rejects it afterwards either way.
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  // Text with no more opening brackets than the depth allowed cannot nest
  // deeper: indexOf tells most bodies apart far faster than the loop below.
  if (occurrences(text, '[', maxDepth + 1) + occurrences(text, '{', maxDepth + 1) <= maxDepth) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** How often `char` occurs in `text`, counted up to `limit`. */
function occurrences(text: string, char: string, limit: number): number {
  let count = 0;
  for (let i = text.indexOf(char); i !== -1 && count < limit; i = text.indexOf(char, i + 1)) count++;
  return count;
}

/** The index of the quote that ends the string opened at `open` (text.length if none does). */
function closingQuote(text: string, open: number): number {
  // indexOf skips a long string far faster than a loop over its characters.
  let quote = text.indexOf('"', open + 1);
  while (quote !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  return text.length;
}

/**
 * JSON can only carry a lone UTF-16 surrogate as a `\uD800`-`\uDFFF` escape
 * (raw bytes are decoded as UTF-8, which has no surrogates), so text without
 * such an escape needs no further look.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

export function mayHoldEscapedSurrogate(jsonText: string): boolean {
  return SURROGATE_ESCAPE.test(jsonText);
}

/**
 * Whether a parsed JSON value holds a string (value or key) that is not
 * well-formed Unicode. Recursive: for values whose depth was checked first.
 */
export function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return !value.isWellFormed();
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  for (const [key, item] of Object.entries(value)) {
    if (!key.isWellFormed() || holdsLoneSurrogate(item)) return true;
  }
  return false;
}

/**
 * Whether URL-encoded text (a query string, a form body) has a `%` that does
 * not start a valid escape, or escapes that do not decode to valid UTF-8
 * (`%ff`, `%ed%a0%80`, a lone surrogate). Fastify's query parser would keep
 * such text as it is, undecoded.
 */
export function hasMalformedPercentEncoding(text: string): boolean {
  if (!text.includes('%')) return false;
  try {
    decodeURIComponent(text);
    return false;
  } catch {
    return true;
  }
}
