import type { FastifyRequest } from 'fastify';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { StagedBlob, StagedTooLarge, Staging } from '../storage/staging';

/** One file part of an upload, received into staging. */
export interface ReceivedFile {
  /** The name the client gave (checked later, with the folder). */
  filename: string;
  staged: StagedBlob;
}

export interface ReceivedUpload {
  files: ReceivedFile[];
  /** The text fields, by name (the last value of a repeated one). */
  fields: Record<string, string>;
}

/** Field names a file may come under: `file`, or `files` (also `files[]`) for several. */
const FILE_FIELDS = new Set(['file', 'files', 'files[]']);
/** More files than this in one request answer 400. */
export const MAX_FILES_PER_UPLOAD = 100;

/**
 * Reads a multipart upload part by part: each file part streams into a
 * staging file of its own (hash and size on the way, never whole in memory),
 * each text field is kept. A file past `fileLimitBytes` stops the reading at
 * once and answers 413 FILE_TOO_LARGE (the error filter then reads and drops
 * the rest of the body, up to a bound, so the client sees the answer). On any
 * failure every staged file is removed before the error is thrown; on success
 * the caller removes them (`Staging.discard`) when done.
 */
export async function receiveUpload(request: FastifyRequest, staging: Staging, fileLimitBytes: number | null): Promise<ReceivedUpload> {
  const received: ReceivedUpload = { files: [], fields: {} };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (typeof part.value !== 'string') throw AppError.badRequest(`Field ${part.fieldname} must be text`);
        received.fields[part.fieldname] = part.value;
        continue;
      }
      if (!FILE_FIELDS.has(part.fieldname)) throw AppError.badRequest(`Unexpected file field "${part.fieldname}"; send files as "file" or "files"`);
      if (received.files.length === MAX_FILES_PER_UPLOAD) throw AppError.badRequest(`At most ${MAX_FILES_PER_UPLOAD} files in one upload`);
      try {
        received.files.push({ filename: part.filename, staged: await staging.receive(part.file, fileLimitBytes) });
      } catch (error) {
        if (error instanceof StagedTooLarge) {
          throw new AppError(ErrorCode.FILE_TOO_LARGE, `${part.filename} is larger than ${error.limitBytes} bytes, the most your plan allows a file`, {
            filename: part.filename,
            limit_bytes: error.limitBytes,
          });
        }
        throw error;
      }
    }
  } catch (error) {
    await Promise.all(received.files.map((file) => staging.discard(file.staged)));
    // Stop feeding the multipart parser: what is left of the body is drained as plain bytes.
    request.raw.unpipe();
    throw multipartError(error);
  }
  if (received.files.length === 0) throw AppError.badRequest('No file in the upload; send one as "file" or several as "files"');
  return received;
}

/** @fastify/multipart's own errors (malformed body, too many parts) in the API's envelope. */
function multipartError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const { code, message } = error as { code?: string; message?: string };
  if (typeof code === 'string' && code.startsWith('FST_')) return AppError.badRequest(`Malformed multipart body: ${message ?? code}`);
  return error;
}
