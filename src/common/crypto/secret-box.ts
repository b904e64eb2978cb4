import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value this box cannot open: made under a key it does not hold, altered, or not a sealed value at all. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

interface BoxKey {
  id: string;
  key: Buffer;
}

/**
 * Secrets at rest (users' and providers' API keys, a deployment's environment
 * variables): AES-256-GCM with a random 96-bit IV per value, so equal secrets
 * never look alike and any change to a stored value is detected.
 *
 * The key is derived from ENCRYPTION_KEY (any string; HKDF-SHA256 makes 32
 * bytes of it) and named by a short id written into every sealed value:
 * `v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url). To rotate, set the new
 * ENCRYPTION_KEY and list the old one in ENCRYPTION_KEYS_PREVIOUS: values
 * sealed under it still open, and writes seal under the new key. A value
 * sealed under a key the box does not hold fails with a SecretBoxError naming
 * the key id, never with garbage.
 */
export class SecretBox {
  private readonly current: BoxKey;
  private readonly byId: Map<string, BoxKey>;

  constructor(currentKey: string, previousKeys: string[] = []) {
    if (!currentKey) throw new SecretBoxError('An encryption key is required');
    this.current = deriveKey(currentKey);
    this.byId = new Map([this.current, ...previousKeys.filter(Boolean).map(deriveKey)].map((key) => [key.id, key]));
  }

  /** The id of the key new values are sealed under. */
  get keyId(): string {
    return this.current.id;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join(':');
  }

  open(sealed: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretBoxError('Not a sealed value');
    const [, keyId, iv, tag, ciphertext] = parts;
    const key = this.byId.get(keyId);
    if (!key) throw new SecretBoxError(`Sealed under key ${keyId}, which is neither ENCRYPTION_KEY nor one of ENCRYPTION_KEYS_PREVIOUS`);
    const tagBytes = Buffer.from(tag, 'base64url');
    const ivBytes = Buffer.from(iv, 'base64url');
    if (tagBytes.length !== TAG_BYTES || ivBytes.length !== IV_BYTES) throw new SecretBoxError('Not a sealed value');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`The value sealed under key ${keyId} was altered`);
    }
  }

  /** Whether a sealed value should be sealed again under the current key (after a rotation). */
  isStale(sealed: string): boolean {
    return sealed.split(':')[1] !== this.current.id;
  }
}

function deriveKey(secret: string): BoxKey {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'coderunner secret-box v1', 32));
  // The id names the key without revealing it: a hash of the derived key, not of the secret.
  const id = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return { id, key };
}

/**
 * A secret as it may be shown: the first characters of its kind (`sk-`) and
 * its last four, e.g. `sk-…abcd`. Short secrets show only their last two.
 * At least half of a secret always stays hidden: where the prefix and the end
 * would show more (`abcdefgh_xyz` would show all of it), the prefix goes, then
 * the end too.
 */
export function maskSecret(secret: string): string {
  const prefix = /^[A-Za-z]{2,8}[-_]/.exec(secret)?.[0] ?? '';
  const end = secret.length < 12 ? secret.slice(-2) : secret.slice(-4);
  if ((prefix.length + end.length) * 2 <= secret.length) return `${prefix}…${end}`;
  if (end.length * 2 <= secret.length) return `…${end}`;
  return '…';
}
