import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { EntityManager } from 'typeorm';
import { noteForAudit } from '../../../../common/audit/audit-notes';
import type { Actor } from '../../../../common/auth/ownership';
import { AppError } from '../../../../common/errors/app-error';
import { ErrorCode } from '../../../../common/errors/error-code';
import { SetAvatarUrlCommand } from '../../../identity/commands/set-avatar-url.command';
import { sniffMediaType } from '../../content-type';
import { Blobs } from '../../storage/blobs';
import type { StagedBlob } from '../../storage/staging';
import { ACCEPTED_AVATAR_TYPES, reencodeAvatar } from '../avatar-image';
import { AVATAR_MEDIA_TYPE, avatarFilename, avatarUrl } from '../avatar-names';
import { AvatarRepository } from '../repositories/avatar.repository';

/** An uploaded image, already received into staging (the caller discards it). */
export interface AvatarUpload {
  /** The name the client gave. Its extension names only the kind of a text file, which is refused anyway (the 415 says which). */
  filename: string;
  staged: StagedBlob;
}

export interface UploadedAvatar {
  avatarUrl: string;
  /** The stored (re-encoded) image's SHA-256 and size. */
  hash: string;
  size: number;
}

/** Makes an uploaded image the caller's avatar, in place of any previous one. */
export class UploadAvatarCommand extends Command<UploadedAvatar> {
  constructor(
    readonly actor: Actor,
    readonly upload: AvatarUpload,
  ) {
    super();
  }
}

/**
 * Checks the upload's type by its contents, re-encodes it (avatar-image.ts),
 * stores the result as a blob, and in one transaction, through the identity
 * context's SetAvatarUrlCommand: holds the new blob, points the user's avatars
 * row at it, releases the previous avatar's blob and sets avatar_url. The
 * previous blob's bytes are deleted after the commit if nothing else holds
 * them (another user may have the same picture, or a file the same bytes).
 */
@CommandHandler(UploadAvatarCommand)
export class UploadAvatarHandler implements ICommandHandler<UploadAvatarCommand> {
  constructor(
    private readonly blobs: Blobs,
    private readonly avatars: AvatarRepository,
    private readonly commands: CommandBus,
  ) {}

  async execute({ actor, upload }: UploadAvatarCommand): Promise<UploadedAvatar> {
    const mediaType = await sniffMediaType(upload.staged, upload.filename);
    if (!ACCEPTED_AVATAR_TYPES.includes(mediaType)) {
      throw new AppError(ErrorCode.INVALID_FILE_TYPE, `An avatar must be a PNG, JPEG, WebP or GIF image; this file is ${mediaType} (by its contents, not its name)`, {
        mime_type: mediaType,
      });
    }
    const image = await reencodeAvatar(upload.staged.path, mediaType);
    let output: StagedBlob | undefined;
    try {
      output = await this.blobs.staging.receiveBuffer(image);
      await this.blobs.store(output);
      const stored = output;
      const filename = avatarFilename(actor.userId, stored.hash);
      const outcome: { released: string | null } = { released: null };
      await this.commands.execute(
        new SetAvatarUrlCommand(actor.userId, async (manager) => {
          outcome.released = await this.replace(manager, actor.userId, filename, stored);
          return avatarUrl(filename);
        }),
      );
      // Committed: the previous blob's bytes go unless something else still holds them.
      if (outcome.released) await this.blobs.collect([outcome.released]);
      noteForAudit(actor, { size: stored.size, hash: stored.hash });
      return { avatarUrl: avatarUrl(filename), hash: stored.hash, size: stored.size };
    } finally {
      await this.blobs.discard(output);
    }
  }

  /** In the transaction: the user's avatar becomes `stored`; returns the blob released, if any. */
  private async replace(manager: EntityManager, userId: string, filename: string, stored: StagedBlob): Promise<string | null> {
    const previous = await this.avatars.lockBlobOf(manager, userId);
    await this.blobs.exchange(manager, { hold: [stored], release: previous !== null ? [previous] : [] });
    await this.avatars.upsert(manager, { userId, filename, blobHash: stored.hash, mimeType: AVATAR_MEDIA_TYPE });
    return previous;
  }
}
