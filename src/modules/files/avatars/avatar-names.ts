import { createHash } from 'node:crypto';
import { API_PREFIX } from '../../../common/http/swagger';

/** What GET /avatars/:filename serves: 64 hex digits and `.webp`; any other name is not an avatar (404). */
export const AVATAR_FILENAME = /^[0-9a-f]{64}\.webp$/;

/** Every avatar is re-encoded to this type, whatever was uploaded. */
export const AVATAR_MEDIA_TYPE = 'image/webp';

/**
 * The name an avatar is served under: a SHA-256 of its owner and its contents.
 * It changes whenever the image does, so it can be cached for good; and two
 * users who upload the same picture (one blob, held twice) still get a name
 * each, as the table's unique filename asks, without either name revealing
 * whose it is.
 */
export function avatarFilename(userId: string, blobHash: string): string {
  return `${createHash('sha256').update(`${userId}:${blobHash}`).digest('hex')}.webp`;
}

/** The avatar_url a user's profile shows for the avatar `filename`. */
export function avatarUrl(filename: string): string {
  return `/${API_PREFIX}/avatars/${filename}`;
}
