import sharp from 'sharp';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';

/** The longest side of an avatar as served, in pixels. */
export const AVATAR_MAX_SIDE = 512;

/**
 * The uploads accepted, by the media type their bytes show (file-type), and
 * the format the decoder must find in the same bytes: a file that one reads as
 * PNG and the other as something else is refused.
 */
const DECODER_FORMAT: Record<string, string> = {
  'image/png': 'png',
  // An animated PNG: decoded, and served, as its first frame.
  'image/apng': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

export const ACCEPTED_AVATAR_TYPES = Object.keys(DECODER_FORMAT);

/**
 * A file of at most 2 MB can still declare a huge image (a few KB of zlib
 * decompress to gigabytes of pixels). 32 megapixels is more than any photo
 * that fits in 2 MB; the decoder refuses a larger image from its header,
 * before it decodes a pixel.
 */
const MAX_INPUT_PIXELS = 32_000_000;

const WEBP_QUALITY = 82;

function undecodable(detail: string): AppError {
  return new AppError(ErrorCode.INVALID_FILE_TYPE, `The image could not be decoded (${detail}); send a PNG, JPEG, WebP or GIF image`);
}

/**
 * The avatar the server serves, made from the uploaded image at `path` (of
 * media type `mediaType`, one of ACCEPTED_AVATAR_TYPES): turned upright by its
 * EXIF orientation, its first frame only, scaled down to fit within 512×512
 * (never up), encoded anew as WebP without any metadata (no EXIF, no GPS
 * position, no ICC profile, no comments). Nothing of the uploaded bytes is
 * served as it came. A file that does not decode cleanly (truncated, corrupt,
 * too many pixels) answers 415 INVALID_FILE_TYPE.
 */
export async function reencodeAvatar(path: string, mediaType: string): Promise<Buffer> {
  const expected = DECODER_FORMAT[mediaType];
  if (!expected) throw undecodable(`type ${mediaType}`);
  // failOn 'error': corrupt or truncated pixel data aborts, while the harmless
  // warnings many cameras' JPEGs raise do not.
  const image = sharp(path, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, pages: 1, autoOrient: true });
  try {
    const { format } = await image.metadata();
    if (format !== expected) throw undecodable(`its contents are ${format ?? 'unknown'}, not ${expected}`);
    return await image
      .resize(AVATAR_MAX_SIDE, AVATAR_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: WEBP_QUALITY })
      .toBuffer();
  } catch (error) {
    if (error instanceof AppError) throw error;
    // libvips' message says what was wrong with the file ("Input image exceeds pixel limit"); the server's path is no business of the client's.
    throw undecodable(firstLine((error as Error).message).replaceAll(path, 'the upload'));
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0].slice(0, 200);
}
