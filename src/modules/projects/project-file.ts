import type { FileRepository } from '../files/repositories/file.repository';
import { joinPath } from '../files/file-paths';

/** A row of the files table as FileRepository hands it out (the entity itself stays in the files context). */
export type FileRow = Awaited<ReturnType<FileRepository['listProjectFiles']>>[number];

/** A file of a project as this context answers it: where it is, how big, which contents. */
export interface ProjectFile {
  /** Folder and name, e.g. `/src/index.js`. */
  path: string;
  size: number;
  /** SHA-256 of the contents (lowercase hex). */
  hash: string;
  updatedAt: Date;
}

export function toProjectFile(row: Pick<FileRow, 'folder' | 'name' | 'size' | 'blobHash' | 'updatedAt'>): ProjectFile {
  return { path: joinPath(row.folder, row.name), size: row.size, hash: row.blobHash!, updatedAt: row.updatedAt };
}
