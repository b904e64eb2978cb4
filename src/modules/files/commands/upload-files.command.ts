import { Inject } from '@nestjs/common';
import { uuidv7 } from '../../../common/ids';
import { Command, CommandHandler, EventBus, ICommandHandler } from '@nestjs/cqrs';
import { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { acceptedMediaType } from '../content-type';
import { FileEntity } from '../entities/file.entity';
import { FileUploadedEvent } from '../events/file-uploaded.event';
import { normalizeFolder, normalizeName } from '../file-paths';
import { FileRepository, isNameTaken, Tree } from '../repositories/file.repository';
import { StorageUsageRepository } from '../repositories/storage-usage.repository';
import { Blobs } from '../storage/blobs';
import type { StagedBlob } from '../storage/staging';
import type { UploadLimits } from '../upload-limits';

export interface UploadFilesInput {
  files: { filename: string; staged: StagedBlob }[];
  /** The folder, default `/`; missing folders are created. */
  path?: string;
  projectId?: string;
  /** Replace files of the same name instead of answering 409. */
  overwrite: boolean;
  limits: UploadLimits;
}

/**
 * Stores received files in one of the caller's folders (of their own tree,
 * or of one of their projects): all of them or, on any refusal, none. The
 * staged files stay the caller's to discard.
 */
export class UploadFilesCommand extends Command<FileEntity[]> {
  constructor(
    readonly actor: Actor,
    readonly input: UploadFilesInput,
  ) {
    super();
  }
}

@CommandHandler(UploadFilesCommand)
export class UploadFilesHandler implements ICommandHandler<UploadFilesCommand> {
  constructor(
    private readonly files: FileRepository,
    private readonly usage: StorageUsageRepository,
    private readonly blobs: Blobs,
    private readonly events: EventBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ actor, input }: UploadFilesCommand): Promise<FileEntity[]> {
    const folder = normalizeFolder(input.path);
    const tree: Tree = { userId: actor.userId, projectId: input.projectId ?? null };
    // Everything that can be refused without the database first: names, duplicates, types.
    const names = new Set<string>();
    const incoming: { name: string; staged: StagedBlob; mimeType: string }[] = [];
    for (const file of input.files) {
      const name = normalizeName(file.filename, 'file name');
      if (names.has(name)) throw AppError.badRequest(`"${name}" is sent twice in this upload`);
      names.add(name);
      incoming.push({ name, staged: file.staged, mimeType: await acceptedMediaType(file.staged, name, this.config.files.allowedTypes) });
    }
    // Into the blob store before the transaction (an S3 upload takes a while; storing twice is harmless).
    for (const file of incoming) await this.blobs.store(file.staged);

    const released: string[] = [];
    const now = new Date();
    const written = await this.files.transaction(async (manager) => {
      if (tree.projectId && !(await this.files.lockProject(manager, tree.projectId, actor.userId))) throw AppError.notFound('Project');
      await this.files.ensureFolders(manager, tree, folder, now);
      // What each name replaces, if anything (rows locked in name order, as every upload locks them).
      const placed = [];
      for (const file of [...incoming].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const existing = await this.files.findEntry(manager, tree, folder, file.name);
        if (existing?.kind === 'folder') throw new AppError(ErrorCode.CONFLICT, `"${file.name}" is a folder in ${folder}`, { name: file.name });
        if (existing && !input.overwrite) {
          throw new AppError(ErrorCode.CONFLICT, `A file named "${file.name}" already exists in ${folder}; send overwrite=true to replace it`, { name: file.name });
        }
        placed.push({ ...file, existing });
      }
      released.push(...(await this.blobs.exchange(manager, { hold: placed.map((file) => file.staged), release: placed.flatMap((file) => (file.existing ? [file.existing.blobHash!] : [])) })));
      const rows: FileEntity[] = [];
      let addedBytes = 0;
      for (const file of placed) {
        const contents = { blobHash: file.staged.hash, size: file.staged.size, mimeType: file.mimeType, updatedAt: now };
        if (file.existing) {
          await this.files.replaceContents(manager, file.existing.id, contents);
          addedBytes += file.staged.size - file.existing.size;
          rows.push(Object.assign(file.existing, contents));
        } else {
          const row = Object.assign(new FileEntity(), { id: uuidv7(), ...tree, kind: 'file', folder, name: file.name, ...contents, createdAt: now });
          await this.files.insert(manager, row).catch((error: unknown) => {
            // Another upload of the same name committed first.
            throw isNameTaken(error) ? new AppError(ErrorCode.CONFLICT, `A file named "${file.name}" already exists in ${folder}`, { name: file.name }) : error;
          });
          addedBytes += file.staged.size;
          rows.push(row);
        }
      }
      if (addedBytes > 0 && !(await this.usage.charge(manager, actor.userId, addedBytes, input.limits.storageBytes))) {
        const used = await this.usage.usedBy(manager, actor.userId);
        throw new AppError(ErrorCode.STORAGE_QUOTA_EXCEEDED, `This upload (${addedBytes} bytes) would pass your plan's ${input.limits.storageBytes} bytes of storage`, {
          used_bytes: used,
          limit_bytes: input.limits.storageBytes,
        });
      }
      if (addedBytes < 0) await this.usage.refund(manager, actor.userId, -addedBytes);
      return rows;
    });
    await this.blobs.collect(released);
    // Not awaited: handlers run on their own and log their failures; the upload is committed and answered regardless.
    this.events.publishAll(written.map((row) => new FileUploadedEvent(actor.userId, row.id, row.name, row.folder, row.size, row.projectId)));
    return written;
  }
}
