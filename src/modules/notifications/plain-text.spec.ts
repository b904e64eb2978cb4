import { clip } from './plain-text';

describe('clip', () => {
  it('keeps short text, on one line', () => {
    expect(clip('hello', 10)).toBe('hello');
    expect(clip('  a\n\n b\tc  ', 10)).toBe('a b c');
  });

  it('cuts long text to max characters, the last one an ellipsis', () => {
    expect(clip('abcdefghij', 10)).toBe('abcdefghij');
    expect(clip('abcdefghijk', 10)).toBe('abcdefghi…');
    expect(clip('abcd efghijk', 6)).toBe('abcd…');
  });

  it('counts code points and never splits a surrogate pair', () => {
    const emoji = '😀'.repeat(5);
    expect(clip(emoji, 5)).toBe(emoji);
    expect(clip(emoji, 3)).toBe('😀😀…');
    expect(Array.from(clip('😀'.repeat(300), 200))).toHaveLength(200);
  });
});
