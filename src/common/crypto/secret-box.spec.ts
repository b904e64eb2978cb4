import { maskSecret, SecretBox, SecretBoxError } from './secret-box';

/** The sealed value with one bit of its `index`th part (iv 2, tag 3, ciphertext 4) flipped, re-encoded. */
function flipBit(sealed: string, index: number): string {
  const parts = sealed.split(':');
  const bytes = Buffer.from(parts[index], 'base64url');
  bytes[0] ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join(':');
}

describe('SecretBox', () => {
  const box = new SecretBox('the current key');

  it('opens what it sealed, whatever the text', () => {
    for (const secret of ['sk-proj-abcdefghijklmnopqrstuvwxyz0123456789', '', 'ключ 🔑 with spaces:and:colons', 'x'.repeat(10_000)]) {
      expect(box.open(box.seal(secret))).toBe(secret);
    }
  });

  it('writes v1:<key id>:<iv>:<tag>:<ciphertext>, without the secret in it', () => {
    const secret = 'sk-live-0123456789abcdef';
    const sealed = box.seal(secret);
    const [version, keyId, iv, tag, ciphertext] = sealed.split(':');
    expect(version).toBe('v1');
    expect(keyId).toBe(box.keyId);
    expect(keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    expect(Buffer.from(ciphertext, 'base64url')).toHaveLength(Buffer.byteLength(secret));
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain('0123456789abcdef');
  });

  it('uses a random IV: the same secret sealed twice looks different, and both open', () => {
    const first = box.seal('same secret');
    const second = box.seal('same secret');
    expect(first).not.toBe(second);
    expect(first.split(':')[2]).not.toBe(second.split(':')[2]);
    expect(box.open(first)).toBe('same secret');
    expect(box.open(second)).toBe('same secret');
  });

  it('refuses a value altered anywhere (ciphertext, tag, IV) with a SecretBoxError', () => {
    const sealed = box.seal('do not touch');
    for (const part of [2, 3, 4]) {
      const altered = flipBit(sealed, part);
      expect(() => box.open(altered)).toThrow(SecretBoxError);
      expect(() => box.open(altered)).toThrow(`The value sealed under key ${box.keyId} was altered`);
    }
    // Ciphertext swapped in from another value sealed under the same key: the tag does not match it.
    const other = box.seal('do not look').split(':');
    const spliced = [...sealed.split(':').slice(0, 4), other[4]].join(':');
    expect(() => box.open(spliced)).toThrow(SecretBoxError);
  });

  it('refuses what is not a sealed value', () => {
    const sealed = box.seal('secret');
    const [, keyId, iv, tag, ciphertext] = sealed.split(':');
    const malformed = [
      '',
      'sk-plain-text-key',
      sealed.split(':').slice(0, 4).join(':'),
      `${sealed}:extra`,
      ['v2', keyId, iv, tag, ciphertext].join(':'),
      ['v1', keyId, iv, tag.slice(0, 10), ciphertext].join(':'),
      ['v1', keyId, iv.slice(0, 8), tag, ciphertext].join(':'),
    ];
    for (const value of malformed) {
      expect(() => box.open(value)).toThrow(SecretBoxError);
    }
  });

  describe('key rotation', () => {
    const oldBox = new SecretBox('the old key');
    const sealedUnderOld = oldBox.seal('sealed long ago');

    it('names keys by an id that differs per key and reveals nothing of it', () => {
      expect(oldBox.keyId).not.toBe(box.keyId);
      expect(new SecretBox('the old key').keyId).toBe(oldBox.keyId);
      expect(oldBox.keyId).not.toContain('old');
    });

    it('opens a value sealed under a previous key listed in previousKeys, and seals new values under the current one', () => {
      const rotated = new SecretBox('the current key', ['the old key']);
      expect(rotated.keyId).toBe(box.keyId);
      expect(rotated.open(sealedUnderOld)).toBe('sealed long ago');
      expect(rotated.isStale(sealedUnderOld)).toBe(true);
      const resealed = rotated.seal(rotated.open(sealedUnderOld));
      expect(resealed.split(':')[1]).toBe(box.keyId);
      expect(rotated.isStale(resealed)).toBe(false);
      // The current key alone opens the new value; the old key alone does not.
      expect(box.open(resealed)).toBe('sealed long ago');
      expect(() => oldBox.open(resealed)).toThrow(SecretBoxError);
    });

    it('fails with a clear error naming the key id when that key is not held', () => {
      let caught: unknown;
      try {
        box.open(sealedUnderOld);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SecretBoxError);
      expect((caught as Error).name).toBe('SecretBoxError');
      expect((caught as Error).message).toContain(oldBox.keyId);
      expect((caught as Error).message).toMatch(/ENCRYPTION_KEYS_PREVIOUS/);
    });

    it('ignores empty entries of previousKeys and requires a current key', () => {
      const rotated = new SecretBox('the current key', ['', 'the old key', '']);
      expect(rotated.open(sealedUnderOld)).toBe('sealed long ago');
      expect(() => new SecretBox('')).toThrow(SecretBoxError);
    });
  });
});

describe('maskSecret', () => {
  it('shows the kind of key and its last four characters', () => {
    expect(maskSecret('sk-proj-0123456789abcdefghijklmnopqrstuvwxyzabcd')).toBe('sk-…abcd');
    expect(maskSecret('sk-ant-api03-0123456789abcdefghijklmnop')).toBe('sk-…mnop');
    expect(maskSecret('gsk_0123456789abcdefghijwxyz')).toBe('gsk_…wxyz');
    expect(maskSecret('0123456789abcdefghijklmnopqrstuvwxyz')).toBe('…wxyz');
  });

  it('shows short secrets by their last two characters', () => {
    expect(maskSecret('sk-abcdefgh')).toBe('sk-…gh');
    expect(maskSecret('abcdefgh')).toBe('…gh');
  });

  it('never shows half of a secret or more, however short or long its prefix', () => {
    const secrets = ['', 'a', 'ab', 'abc', 'sk-a', 'sk-ab', 'sk-abcd', 'abcdefgh_xyz', 'abcdefgh-1234567', 'sk-abcdefghi', 'key_0123456789'];
    for (let length = 1; length <= 40; length++) secrets.push(`abcdefgh-${'x'.repeat(length)}`, 'y'.repeat(length));
    for (const secret of secrets) {
      const mask = maskSecret(secret);
      const shown = mask.replace('…', '').length;
      expect([secret, mask, shown * 2 <= secret.length]).toEqual([secret, mask, true]);
      expect(mask).toContain('…');
      expect(mask.length).toBeLessThanOrEqual(32);
    }
  });
});
