import { extname } from 'node:path';
import { fromBuffer } from 'file-type';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { StagedBlob } from './storage/staging';

/** Text types told apart by extension (the bytes of text say nothing of its kind). */
const TEXT_BY_EXTENSION: Record<string, string> = {
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.cjs': 'text/javascript',
  '.ts': 'text/x-typescript',
  '.py': 'text/x-python',
  '.xml': 'text/xml',
  '.yaml': 'text/yaml',
  '.yml': 'text/yaml',
  '.svg': 'image/svg+xml',
};

/**
 * The media type of staged contents, from what they are, not what the client
 * said: magic bytes (file-type) for binary formats; well-formed UTF-8 is text,
 * its kind told by the file's extension; anything else is
 * application/octet-stream.
 */
export async function sniffMediaType(staged: StagedBlob, filename: string): Promise<string> {
  const detected = staged.size > 0 ? await fromBuffer(staged.head) : undefined;
  if (detected) return detected.mime;
  if (staged.utf8) return TEXT_BY_EXTENSION[extname(filename).toLowerCase()] ?? 'text/plain';
  return 'application/octet-stream';
}

/** Whether `mediaType` is on the allow-list (`type/subtype`, `type/*` or `*`). */
export function isAllowedType(mediaType: string, allowList: readonly string[]): boolean {
  const [type] = mediaType.split('/');
  return allowList.some((allowed) => allowed === '*' || allowed === mediaType || allowed === `${type}/*`);
}

/** The media type of staged contents if the allow-list accepts it, else 415 INVALID_FILE_TYPE. */
export async function acceptedMediaType(staged: StagedBlob, filename: string, allowList: readonly string[]): Promise<string> {
  const mediaType = await sniffMediaType(staged, filename);
  if (!isAllowedType(mediaType, allowList)) {
    throw new AppError(ErrorCode.INVALID_FILE_TYPE, `Files of type ${mediaType} are not accepted (by content, not by name)`, { mime_type: mediaType });
  }
  return mediaType;
}
