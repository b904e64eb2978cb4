import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Secrets {
  jwtSecret: string;
  encryptionKey: string;
}

/**
 * Secrets not given in the environment are generated once and kept in
 * DATA_DIR/secrets.json (mode 0600), so tokens survive restarts on a developer
 * machine without anyone having to invent a secret.
 */
export function resolveSecrets(
  dataDir: string,
  given: { jwtSecret?: string; encryptionKey?: string },
): Secrets {
  if (given.jwtSecret && given.encryptionKey) {
    return { jwtSecret: given.jwtSecret, encryptionKey: given.encryptionKey };
  }
  const file = join(dataDir, 'secrets.json');
  let stored: Partial<Secrets> = {};
  if (existsSync(file)) {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  }
  const kept: Secrets = {
    jwtSecret: stored.jwtSecret ?? randomBytes(48).toString('base64url'),
    encryptionKey: stored.encryptionKey ?? randomBytes(32).toString('base64'),
  };
  if (kept.jwtSecret !== stored.jwtSecret || kept.encryptionKey !== stored.encryptionKey) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(kept, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return {
    jwtSecret: given.jwtSecret ?? kept.jwtSecret,
    encryptionKey: given.encryptionKey ?? kept.encryptionKey,
  };
}
