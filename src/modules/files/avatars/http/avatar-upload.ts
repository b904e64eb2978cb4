import type { FastifyRequest } from 'fastify';
import { AppError } from '../../../../common/errors/app-error';
import { ErrorCode } from '../../../../common/errors/error-code';
import { ReceivedFile, receiveUpload } from '../../http/multipart-upload';
import type { Staging } from '../../storage/staging';

/** The largest image accepted, in bytes, before it is re-encoded. */
export const AVATAR_MAX_BYTES = 2 * 1024 * 1024;

const AVATAR_RULES = {
  fileFields: new Set(['avatar', 'file']),
  maxFiles: 1,
  limitBytes: AVATAR_MAX_BYTES,
  hint: 'send the image as the part "avatar"',
  tooLarge: (filename: string, limitBytes: number) =>
    new AppError(ErrorCode.FILE_TOO_LARGE, `${filename || 'The image'} is larger than ${limitBytes} bytes, the most an avatar may be`, {
      filename,
      limit_bytes: limitBytes,
    }),
};

/** The one image of an avatar upload (`avatar`, or `file`), staged; text fields are ignored. The caller discards it when done. */
export async function receiveAvatar(request: FastifyRequest, staging: Staging): Promise<ReceivedFile> {
  const [image] = (await receiveUpload(request, staging, AVATAR_RULES)).files;
  return image;
}
