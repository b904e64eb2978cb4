import { displayPrefixOf, generateApiKey } from './api-key.mapper';

describe('generateApiKey', () => {
  it('is sk- and 48 base62 characters, different every time', () => {
    const keys = new Set(Array.from({ length: 200 }, generateApiKey));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(key).toMatch(/^sk-[A-Za-z0-9]{48}$/);
  });

  it('is displayed by its first and last characters only', () => {
    const key = generateApiKey();
    expect(displayPrefixOf(key)).toBe(`${key.slice(0, 7)}…${key.slice(-4)}`);
  });
});
