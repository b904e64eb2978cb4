import { API_PREFIX } from '../../common/http/swagger';
import type { FileEntity } from './entities/file.entity';
import { joinPath } from './file-paths';
import type { FileResponse, FolderResponse } from './http/dto/file.dto';

/** The wire shape of a file: a whitelist, so nothing else of the row leaks. */
export function toFileResponse(row: FileEntity): FileResponse {
  return {
    id: row.id,
    filename: row.name,
    path: row.folder,
    size: row.size,
    mime_type: row.mimeType ?? 'application/octet-stream',
    hash: row.blobHash!,
    url: `/${API_PREFIX}/files/${row.id}/download`,
    project_id: row.projectId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toFolderResponse(row: FileEntity): FolderResponse {
  return { id: row.id, name: row.name, path: joinPath(row.folder, row.name), created_at: row.createdAt.toISOString() };
}
