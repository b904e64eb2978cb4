import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { uuidv7 } from '../../../common/ids';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { FileEntity } from '../entities/file.entity';
import { ancestry, joinPath } from '../file-paths';

/** Which tree an entry is in: a user's own (projectId null) or one of their projects'. */
export interface Tree {
  userId: string;
  projectId: string | null;
}

/** Whether a write failed on the one-name-per-folder index. */
export function isNameTaken(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'files_tree_folder_name_key';
}

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The `files` table: every statement the files context (and a project's
 * files) makes. Methods that take an `EntityManager` run in the caller's
 * transaction.
 */
@Injectable()
export class FileRepository {
  constructor(@InjectRepository(FileEntity) private readonly files: Repository<FileEntity>) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.files.manager.transaction(work);
  }

  /**
   * Whether `projectId` is a project of `userId`; it then cannot be deleted
   * until the caller's transaction ends (its files are being written).
   */
  async lockProject(manager: EntityManager, projectId: string, userId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM projects WHERE id = $1 AND user_id = $2 FOR KEY SHARE`, [projectId, userId]);
    return rows.length > 0;
  }

  /** The entry `id`; with `lock`, held until the caller's transaction ends. */
  findById(id: string, manager: EntityManager = this.files.manager, options: { lock?: boolean } = {}): Promise<FileEntity | null> {
    const query = manager.createQueryBuilder(FileEntity, 'f').where('f.id = :id', { id });
    return (options.lock ? query.setLock('pessimistic_write') : query).getOne();
  }

  /** The entry `name` in `folder` of a tree. */
  findEntry(manager: EntityManager, tree: Tree, folder: string, name: string): Promise<FileEntity | null> {
    return manager
      .createQueryBuilder(FileEntity, 'f')
      .where('f.userId = :userId AND f.projectId IS NOT DISTINCT FROM :projectId AND f.folder = :folder AND f.name = :name', { ...tree, folder, name })
      .setLock('pessimistic_write')
      .getOne();
  }

  /**
   * Creates each missing folder from the root down to `folder` (mkdir -p), as
   * of `now`. A file standing where a folder should be answers 409.
   */
  async ensureFolders(manager: EntityManager, tree: Tree, folder: string, now: Date): Promise<void> {
    for (const [parent, name] of ancestry(folder)) {
      await manager.query(
        `INSERT INTO files (id, user_id, project_id, kind, folder, name, size, created_at, updated_at)
         VALUES ($1, $2, $3, 'folder', $4, $5, 0, $6, $6)
         ON CONFLICT (user_id, project_id, folder, name) DO NOTHING`,
        [uuidv7(), tree.userId, tree.projectId, parent, name, now],
      );
      const existing = await this.findEntry(manager, tree, parent, name);
      if (existing?.kind !== 'folder') {
        throw new AppError(ErrorCode.CONFLICT, `A file named "${name}" stands where the folder ${joinPath(parent, name)} would be`);
      }
    }
  }

  async insert(manager: EntityManager, entry: FileEntity): Promise<void> {
    await manager.insert(FileEntity, entry);
  }

  async replaceContents(manager: EntityManager, id: string, contents: Pick<FileEntity, 'blobHash' | 'size' | 'mimeType' | 'updatedAt'>): Promise<void> {
    await manager.update(FileEntity, { id }, contents);
  }

  /** One page of a folder: folders first, then files, each by name. */
  async listFolder(tree: Tree, folder: string, page: { page: number; limit: number }): Promise<{ rows: FileEntity[]; total: number }> {
    const [rows, total] = await this.files
      .createQueryBuilder('f')
      .where('f.userId = :userId AND f.projectId IS NOT DISTINCT FROM :projectId AND f.folder = :folder', { ...tree, folder })
      .orderBy('f.kind', 'DESC') // 'folder' > 'file'
      .addOrderBy('f.name', 'ASC')
      .addOrderBy('f.id', 'ASC')
      .skip((page.page - 1) * page.limit)
      .take(page.limit)
      .getManyAndCount();
    return { rows, total };
  }

  /** Whether a folder holds anything. */
  async hasChildren(manager: EntityManager, tree: Tree, path: string): Promise<boolean> {
    const count = await manager
      .createQueryBuilder(FileEntity, 'f')
      .where('f.userId = :userId AND f.projectId IS NOT DISTINCT FROM :projectId AND f.folder = :path', { ...tree, path })
      .getCount();
    return count > 0;
  }

  /** Deletes the entries under folder `path` (at any depth) and returns the deleted files. */
  async deleteUnder(manager: EntityManager, tree: Tree, path: string): Promise<FileEntity[]> {
    // TypeORM answers a DELETE … RETURNING as [rows, count].
    const [rows]: [{ id: string; blob_hash: string | null; size: string; kind: string }[], number] = await manager.query(
      `DELETE FROM files
       WHERE user_id = $1 AND project_id IS NOT DISTINCT FROM $2 AND (folder = $3 OR folder LIKE $4)
       RETURNING id, blob_hash, size, kind`,
      [tree.userId, tree.projectId, path, `${likeLiteral(path)}/%`],
    );
    return rows.filter((row) => row.kind === 'file').map((row) => Object.assign(new FileEntity(), { id: row.id, blobHash: row.blob_hash, size: Number(row.size), kind: 'file' }));
  }

  async deleteById(manager: EntityManager, id: string): Promise<void> {
    await manager.delete(FileEntity, { id });
  }

  /** How many files (not folders) a project holds. */
  countProjectFiles(projectId: string): Promise<number> {
    return this.files.count({ where: { projectId, kind: 'file' } });
  }

  /** Every file (not folder) of a project, by path. */
  listProjectFiles(projectId: string, manager: EntityManager = this.files.manager): Promise<FileEntity[]> {
    return manager.find(FileEntity, { where: { projectId, kind: 'file' }, order: { folder: 'ASC', name: 'ASC' } });
  }
}
