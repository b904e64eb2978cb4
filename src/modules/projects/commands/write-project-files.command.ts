import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { EntityManager } from 'typeorm';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { sniffMediaType } from '../../files/content-type';
import { ancestry, joinPath, splitFilePath } from '../../files/file-paths';
import { FileRepository, isNameTaken, Tree } from '../../files/repositories/file.repository';
import { StorageUsageRepository } from '../../files/repositories/storage-usage.repository';
import { uploadLimitsOf } from '../../files/upload-limits';
import { Blobs } from '../../files/storage/blobs';
import type { StagedBlob } from '../../files/storage/staging';
import { FileRow, ProjectFile, toProjectFile } from '../project-file';
import { ProjectRepository } from '../repositories/project.repository';

/** Files one request may write: enough for a real project, few enough to hold one transaction short. */
export const MAX_FILES_PER_WRITE = 1000;

export interface ProjectFileInput {
  /** `/src/index.js` or `src/index.js`. */
  path: string;
  /** The file's text; stored as UTF-8. */
  content: string;
}

/** Who writes: the ownership rule's actor, and the plan (user level) whose limits apply to a non-admin. */
export interface ProjectWriter extends Actor {
  level: string;
}

/**
 * Creates or replaces text files of one of the caller's projects (an admin:
 * anyone's), all of them or, on any refusal, none. Each file is at most the
 * plan's max_upload_bytes; what the request adds to the owner's storage
 * (a replaced file counts only by how much it grew or shrank) must fit the
 * plan's storage_bytes. Missing folders are created.
 */
export class WriteProjectFilesCommand extends Command<ProjectFile[]> {
  constructor(
    readonly writer: ProjectWriter,
    readonly id: string,
    readonly files: ProjectFileInput[],
  ) {
    super();
  }
}

/** One file of the request, checked: where it goes and its bytes. */
interface Target {
  folder: string;
  name: string;
  path: string;
  bytes: Buffer;
}

/** A target once its contents are staged and the transaction knows what it replaces. */
interface Placement extends Target {
  staged: StagedBlob;
  mimeType: string;
  existing: FileRow | null;
}

@CommandHandler(WriteProjectFilesCommand)
export class WriteProjectFilesHandler implements ICommandHandler<WriteProjectFilesCommand> {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly files: FileRepository,
    private readonly usage: StorageUsageRepository,
    private readonly blobs: Blobs,
    private readonly queries: QueryBus,
  ) {}

  async execute({ writer, id, files }: WriteProjectFilesCommand): Promise<ProjectFile[]> {
    const ownerId = await this.projects.ownerOf(id);
    if (!ownerId || !mayActOn(writer, ownerId)) throw AppError.notFound('Project');
    if (files.length > MAX_FILES_PER_WRITE) throw AppError.badRequest(`At most ${MAX_FILES_PER_WRITE} files may be written at once`);
    const targets = checkedTargets(files);
    const limits = await uploadLimitsOf(this.queries, writer);
    for (const target of targets) {
      if (limits.fileBytes !== null && target.bytes.length > limits.fileBytes) {
        throw new AppError(ErrorCode.FILE_TOO_LARGE, `${target.path} is larger than ${limits.fileBytes} bytes, the most your plan allows a file`, {
          path: target.path,
          limit_bytes: limits.fileBytes,
        });
      }
    }

    const staged: StagedBlob[] = [];
    try {
      const placements: Omit<Placement, 'existing'>[] = [];
      for (const target of targets) {
        const blob = await this.blobs.staging.receiveBuffer(target.bytes);
        staged.push(blob);
        placements.push({ ...target, staged: blob, mimeType: await sniffMediaType(blob, target.name) });
      }
      // Into the blob store before the transaction: a slow store (S3) must not hold row locks, and storing a hash twice is harmless.
      for (const blob of uniqueByHash(staged)) await this.blobs.store(blob);

      const released: string[] = [];
      const written = await this.projects.transaction(async (manager) => {
        if (!(await this.projects.lockOwned(manager, id, ownerId))) throw AppError.notFound('Project');
        const tree: Tree = { userId: ownerId, projectId: id };
        const now = new Date();
        const placed: Placement[] = [];
        for (const placement of placements) {
          await this.files.ensureFolders(manager, tree, placement.folder, now);
          const existing = await this.files.findEntry(manager, tree, placement.folder, placement.name);
          if (existing?.kind === 'folder') throw AppError.conflict(`${placement.path} is a folder`, { path: placement.path });
          placed.push({ ...placement, existing });
        }
        released.push(...(await this.countHolders(manager, placed)));
        const addedBytes = await this.writeRows(manager, tree, placed, now);
        await this.settleStorage(manager, ownerId, addedBytes, limits.storageBytes);
        return placed.map((placement) => toProjectFile({ ...placement, size: placement.staged.size, blobHash: placement.staged.hash, updatedAt: now }));
      });
      await this.blobs.collect(released);
      return written;
    } finally {
      for (const blob of staged) await this.blobs.discard(blob);
    }
  }

  /**
   * One more holder of each new content, one fewer of each replaced one; a file
   * rewritten with the contents it has changes neither. Returns the released
   * hashes, to collect after commit.
   */
  private countHolders(manager: EntityManager, placed: Placement[]): Promise<string[]> {
    const changed = placed.filter(({ staged, existing }) => existing?.blobHash !== staged.hash);
    return this.blobs.exchange(manager, {
      hold: changed.map(({ staged }) => staged),
      release: changed.flatMap(({ existing }) => (existing ? [existing.blobHash!] : [])),
    });
  }

  /** Inserts or updates each file's row; returns how many bytes the owner's storage grows by (negative: shrinks). */
  private async writeRows(manager: EntityManager, tree: Tree, placed: Placement[], now: Date): Promise<number> {
    let addedBytes = 0;
    for (const { folder, name, path, staged, mimeType, existing } of placed) {
      const contents = { blobHash: staged.hash, size: staged.size, mimeType, updatedAt: now };
      if (existing) {
        await this.files.replaceContents(manager, existing.id, contents);
        addedBytes += staged.size - existing.size;
        continue;
      }
      const row: FileRow = { id: uuidv7(), ...tree, kind: 'file', folder, name, ...contents, createdAt: now };
      try {
        await this.files.insert(manager, row);
      } catch (error) {
        // Only a writer that bypasses the project's lock could have put an entry here meanwhile.
        throw isNameTaken(error) ? AppError.conflict(`${path} was written by another request meanwhile; try again`, { path }) : error;
      }
      addedBytes += staged.size;
    }
    return addedBytes;
  }

  /** Charges what the request added to the owner's storage, within the limit, or refunds what it freed. */
  private async settleStorage(manager: EntityManager, ownerId: string, addedBytes: number, limit: number | null): Promise<void> {
    if (addedBytes < 0) {
      await this.usage.refund(manager, ownerId, -addedBytes);
      return;
    }
    if (addedBytes === 0 || (await this.usage.charge(manager, ownerId, addedBytes, limit))) return;
    const used = await this.usage.usedBy(manager, ownerId);
    throw new AppError(ErrorCode.STORAGE_QUOTA_EXCEEDED, `These files (${addedBytes} more bytes) would pass the plan's ${limit} bytes of storage`, {
      used_bytes: used,
      limit_bytes: limit,
      added_bytes: addedBytes,
    });
  }
}

/**
 * Each file's folder and name (400 for a bad path), refusing a path sent twice
 * and a path that is also a folder of another file of the same request (it
 * cannot be both).
 */
function checkedTargets(files: ProjectFileInput[]): Target[] {
  const targets = files.map((file) => {
    const { folder, name } = checkedPath(file.path);
    return { folder, name, path: joinPath(folder, name), bytes: Buffer.from(file.content, 'utf8') };
  });
  const paths = new Set<string>();
  for (const target of targets) {
    if (paths.has(target.path)) throw AppError.badRequest(`${target.path} is sent twice`, { path: target.path });
    paths.add(target.path);
  }
  for (const target of targets) {
    for (const [parent, name] of ancestry(target.folder)) {
      const folder = joinPath(parent, name);
      if (paths.has(folder)) throw AppError.badRequest(`${folder} is sent as a file and is the folder of ${target.path}`, { path: folder });
    }
  }
  return targets;
}

/** A path's folder and name, or 400 naming the path (in a request of a thousand files, which one matters). */
function checkedPath(path: string): { folder: string; name: string } {
  try {
    return splitFilePath(path);
  } catch (error) {
    if (error instanceof AppError) throw new AppError(error.code, error.message, { ...error.details, path });
    throw error;
  }
}

function uniqueByHash(blobs: StagedBlob[]): StagedBlob[] {
  return [...new Map(blobs.map((blob) => [blob.hash, blob])).values()];
}
