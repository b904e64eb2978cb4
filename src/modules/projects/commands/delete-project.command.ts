import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { noteForAudit } from '../../../common/audit/audit-notes';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { FileRepository } from '../../files/repositories/file.repository';
import { StorageUsageRepository } from '../../files/repositories/storage-usage.repository';
import { Blobs } from '../../files/storage/blobs';
import { ProjectRepository } from '../repositories/project.repository';

/**
 * Deletes one of the caller's projects (an admin: anyone's) with its files:
 * their contents are let go and their bytes given back to the owner's storage
 * in the same transaction that deletes the rows, so the counts never drift;
 * contents nobody else holds are then deleted from storage.
 */
export class DeleteProjectCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteProjectCommand)
export class DeleteProjectHandler implements ICommandHandler<DeleteProjectCommand> {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly files: FileRepository,
    private readonly usage: StorageUsageRepository,
    private readonly blobs: Blobs,
  ) {}

  async execute({ actor, id }: DeleteProjectCommand): Promise<void> {
    const ownerId = await this.projects.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('Project');
    const { released, fileCount, bytes } = await this.projects.transaction(async (manager) => {
      // False: a concurrent delete won. Holding the lock, no write can add a file the list below would miss.
      if (!(await this.projects.lockOwned(manager, id, ownerId))) throw AppError.notFound('Project');
      const files = await this.files.listProjectFiles(id, manager);
      const freed = files.reduce((sum, file) => sum + file.size, 0);
      const hashes = await this.blobs.exchange(manager, { release: files.map((file) => file.blobHash!) });
      await this.usage.refund(manager, ownerId, freed);
      if (!(await this.projects.deleteOwned(manager, id, ownerId))) throw AppError.notFound('Project');
      return { released: hashes, fileCount: files.length, bytes: freed };
    });
    noteForAudit(actor, { file_count: fileCount, bytes });
    await this.blobs.collect(released);
  }
}
