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

/** What an upload route takes: the part names files come under, how many, how large, and how to say so. */
export interface UploadRules {
  fileFields: ReadonlySet<string>;
  maxFiles: number;
  /** Bytes a file (null: no limit). */
  limitBytes: number | null;
  /** How to send the file(s), for the 400 answers, e.g. 'send files as "file" or "files"'. */
  hint: string;
  /** The 413 for a file past limitBytes. */
  tooLarge: (filename: string, limitBytes: number) => AppError;
}

/**
 * Reads a multipart upload part by part: each file part streams into a
 * staging file of its own (hash and size on the way, never whole in memory),
 * each text field is kept. A file past the limit stops the reading at once and
 * answers 413 (the error filter then reads and drops the rest of the body, up
 * to a bound, so the client sees the answer). On any failure every staged file
 * is removed before the error is thrown; on success the caller removes them
 * when done.
 */
export async function receiveUpload(request: FastifyRequest, staging: Staging, rules: UploadRules): Promise<ReceivedUpload> {
  if (!request.isMultipart()) throw new AppError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, `This operation takes a multipart/form-data body; ${rules.hint}`);
  const received: ReceivedUpload = { files: [], fields: {} };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (typeof part.value !== 'string') throw AppError.badRequest(`Field ${part.fieldname} must be text`);
        received.fields[part.fieldname] = part.value;
        continue;
      }
      if (!rules.fileFields.has(part.fieldname)) throw AppError.badRequest(`Unexpected file part "${part.fieldname}"; ${rules.hint}`);
      if (received.files.length === rules.maxFiles) throw AppError.badRequest(`At most ${rules.maxFiles} file(s) in one upload`);
      try {
        received.files.push({ filename: part.filename, staged: await staging.receive(part.file, rules.limitBytes) });
      } catch (error) {
        throw error instanceof StagedTooLarge ? rules.tooLarge(part.filename, error.limitBytes) : error;
      }
    }
  } catch (error) {
    await Promise.all(received.files.map((file) => staging.discard(file.staged)));
    // Stop feeding the multipart parser: what is left of the body is drained as plain bytes.
    request.raw.unpipe();
    throw multipartError(error);
  }
  if (received.files.length === 0) throw AppError.badRequest(`No file in the upload; ${rules.hint}`);
  return received;
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
