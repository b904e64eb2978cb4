/**
 * `text` on one line (runs of whitespace, line breaks included, become one
 * space), at most `max` characters, ending in `…` when cut. Characters are
 * counted as PostgreSQL counts them (code points), so a cut never splits a
 * surrogate pair and a varchar(max) column always takes the result.
 */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}
