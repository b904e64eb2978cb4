import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../../../common/errors/app-error';
import { ErrorCode } from '../../../../common/errors/error-code';
import { StagedBlob, StagedTooLarge, Staging } from '../../storage/staging';

/** The largest image accepted, in bytes, before it is re-encoded. */
export const AVATAR_MAX_BYTES = 2 * 1024 * 1024;

/** The names the image's part may have. */
const IMAGE_FIELDS = new Set(['avatar', 'file']);

export interface ReceivedAvatar {
  filename: string;
  staged: StagedBlob;
}

/**
 * Reads the multipart body of an avatar upload: its one file part (`avatar`,
 * or `file`) streams into a staging file (hash and size on the way, never
 * whole in memory), text fields are ignored. Past AVATAR_MAX_BYTES the reading
 * stops at once and answers 413 FILE_TOO_LARGE. On any failure the staged
 * file is removed and the multipart parser let go of, so the error filter can
 * read and drop the rest of the body and the client receives the answer; on
 * success the caller discards the staged file when done.
 */
export async function receiveAvatar(request: FastifyRequest, staging: Staging): Promise<ReceivedAvatar> {
  if (!request.isMultipart()) {
    throw new AppError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'This operation takes a multipart/form-data body with the image as the part "avatar"');
  }
  let received: ReceivedAvatar | undefined;
  try {
    // busboy's own cap per file (the JSON body limit, unless told otherwise) would cut a
    // larger image short without an error; it is set just past ours, so ours is what answers.
    for await (const part of request.parts({ limits: { fileSize: AVATAR_MAX_BYTES + 1 } })) {
      if (part.type === 'field') continue;
      if (!IMAGE_FIELDS.has(part.fieldname)) throw AppError.badRequest(`Unexpected file part "${part.fieldname}"; send the image as "avatar"`);
      if (received) throw AppError.badRequest('One image per upload');
      received = { filename: part.filename, staged: await stage(part, staging) };
    }
  } catch (error) {
    await staging.discard(received?.staged);
    // Stop feeding the multipart parser: what is left of the body is drained as plain bytes.
    request.raw.unpipe();
    throw multipartError(error);
  }
  if (!received) throw AppError.badRequest('No image in the upload; send it as the part "avatar"');
  return received;
}

async function stage(part: MultipartFile, staging: Staging): Promise<StagedBlob> {
  let staged: StagedBlob;
  try {
    staged = await staging.receive(part.file, AVATAR_MAX_BYTES);
  } catch (error) {
    if (error instanceof StagedTooLarge) throw tooLarge(part.filename);
    throw error;
  }
  if (part.file.truncated) {
    await staging.discard(staged);
    throw tooLarge(part.filename);
  }
  return staged;
}

function tooLarge(filename: string): AppError {
  return new AppError(ErrorCode.FILE_TOO_LARGE, `${filename || 'The image'} is larger than ${AVATAR_MAX_BYTES} bytes, the most an avatar may be`, {
    filename,
    limit_bytes: AVATAR_MAX_BYTES,
  });
}

/**
 * busboy's own phrases for a body that is not well-formed multipart (cut
 * short, no boundary or an unusable one); its errors carry no code.
 */
const MALFORMED = /^(Unexpected end of (form|multipart data)|Malformed part header|\w+ terminated early|Multipart: Boundary not found|Boundary required|The needle cannot|Unsupported Content-Type)/;

/** The multipart parser's errors (malformed body, too many parts, a body cut short) as 400 in the API's envelope. */
function multipartError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if ((typeof code === 'string' && code.startsWith('FST_')) || MALFORMED.test(text)) {
    return AppError.badRequest(`Malformed multipart body: ${text || String(code)}`);
  }
  return error;
}
