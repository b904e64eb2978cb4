import fc from 'fast-check';
import { exceedsJsonDepth, hasMalformedPercentEncoding, holdsLoneSurrogate, mayHoldEscapedSurrogate } from './text-checks';

/** Nesting depth of a parsed JSON value: a scalar is 0, `[]` and `{}` are 1. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const items = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...items.map(depthOf));
}

describe('exceedsJsonDepth', () => {
  it('counts the nesting of objects and arrays', () => {
    expect(exceedsJsonDepth('[[[]]]', 3)).toBe(false);
    expect(exceedsJsonDepth('[[[[]]]]', 3)).toBe(true);
    expect(exceedsJsonDepth('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(true);
    expect(exceedsJsonDepth('[[1],[2],[3],[4]]', 2)).toBe(false);
    expect(exceedsJsonDepth('1', 0)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes and backslashes included', () => {
    expect(exceedsJsonDepth('{"a":"[[[[[[{{{{"}', 1)).toBe(false);
    expect(exceedsJsonDepth('["\\"[[[[", "\\\\", "x\\\\\\"[[["]', 1)).toBe(false);
    expect(exceedsJsonDepth('["\\\\"[[]]', 1)).toBe(true);
  });

  it('agrees with the depth of what JSON.parse reads, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(exceedsJsonDepth(text, max)).toBe(depthOf(JSON.parse(text)) > max);
      }),
    );
  });
});

describe('lone surrogates', () => {
  it('are looked for only when the text has a \\uD800-\\uDFFF escape', () => {
    expect(mayHoldEscapedSurrogate('{"a":"plain é 😀"}')).toBe(false);
    expect(mayHoldEscapedSurrogate('{"a":"\\u00e9"}')).toBe(false);
    expect(mayHoldEscapedSurrogate('{"a":"\\ud800"}')).toBe(true);
    expect(mayHoldEscapedSurrogate('{"a":"\\uDFFF"}')).toBe(true);
  });

  it('are found in values and keys at any depth; pairs are fine', () => {
    expect(holdsLoneSurrogate({ a: ['x', { b: 'y\ud800' }] })).toBe(true);
    expect(holdsLoneSurrogate({ ['\udc00']: 1 })).toBe(true);
    expect(holdsLoneSurrogate('\ud83d\ude00')).toBe(false);
    expect(holdsLoneSurrogate({ a: [1, null, true, 'é'] })).toBe(false);
  });
});

describe('hasMalformedPercentEncoding', () => {
  it('accepts text without escapes and escapes of valid UTF-8', () => {
    expect(hasMalformedPercentEncoding('a=1&b=two+words')).toBe(false);
    expect(hasMalformedPercentEncoding('q=caf%C3%A9&x=%F0%9F%98%80&y=%25')).toBe(false);
  });

  it('refuses a lone %, invalid UTF-8 and encoded surrogates', () => {
    for (const text of ['q=100%', 'q=%zz', 'q=%ff', 'q=%C3', 'q=%ed%a0%80']) expect(hasMalformedPercentEncoding(text)).toBe(true);
  });
});
