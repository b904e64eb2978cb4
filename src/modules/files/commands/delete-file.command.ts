import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { FileEntity } from '../entities/file.entity';
import { joinPath } from '../file-paths';
import { FileRepository, Tree } from '../repositories/file.repository';
import { StorageUsageRepository } from '../repositories/storage-usage.repository';
import { Blobs } from '../storage/blobs';

/** What a delete removed, for the answer and the audit entry. */
export interface DeletedFiles {
  kind: FileEntity['kind'];
  files: number;
  bytes: number;
  /** The deleted file's blob (a single file only). */
  hash: string | null;
}

/**
 * Deletes a file, or a folder: an empty one, or with `recursive` everything
 * under it. The owner's storage is refunded in the same transaction; contents
 * nobody else holds are deleted from storage after it commits.
 */
export class DeleteFileCommand extends Command<DeletedFiles> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly recursive: boolean,
  ) {
    super();
  }
}

@CommandHandler(DeleteFileCommand)
export class DeleteFileHandler implements ICommandHandler<DeleteFileCommand> {
  constructor(
    private readonly files: FileRepository,
    private readonly usage: StorageUsageRepository,
    private readonly blobs: Blobs,
  ) {}

  async execute({ actor, id, recursive }: DeleteFileCommand): Promise<DeletedFiles> {
    const outcome = await this.files.transaction(async (manager) => {
      const entry = await this.files.findById(id, manager, { lock: true });
      if (!entry || !mayActOn(actor, entry.userId)) throw AppError.notFound('File');
      const tree: Tree = { userId: entry.userId, projectId: entry.projectId };
      let removed: FileEntity[] = [entry];
      if (entry.kind === 'folder') {
        const path = joinPath(entry.folder, entry.name);
        if (!recursive && (await this.files.hasChildren(manager, tree, path))) {
          throw new AppError(ErrorCode.CONFLICT, `The folder ${path} is not empty; delete with recursive=true to remove everything in it`);
        }
        removed = await this.files.deleteUnder(manager, tree, path);
      }
      await this.files.deleteById(manager, entry.id);
      const files = removed.filter((row) => row.kind === 'file');
      await this.blobs.exchange(manager, { release: files.map((file) => file.blobHash!) });
      const bytes = files.reduce((sum, file) => sum + file.size, 0);
      await this.usage.refund(manager, entry.userId, bytes);
      return { entry, files, bytes };
    });
    await this.blobs.collect(outcome.files.map((file) => file.blobHash!));
    return {
      kind: outcome.entry.kind,
      files: outcome.files.length,
      bytes: outcome.bytes,
      hash: outcome.entry.kind === 'file' ? outcome.entry.blobHash : null,
    };
  }
}
