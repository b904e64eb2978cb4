import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { noteForAudit } from '../../../../common/audit/audit-notes';
import type { Actor } from '../../../../common/auth/ownership';
import { SetAvatarUrlCommand } from '../../../identity/commands/set-avatar-url.command';
import { Blobs } from '../../storage/blobs';
import { AvatarRepository } from '../repositories/avatar.repository';

/**
 * Removes the caller's avatar: the row goes, its blob is released and
 * avatar_url becomes null, in one transaction (SetAvatarUrlCommand); the
 * blob's bytes are deleted after the commit if nothing else holds them.
 * Without an avatar there is nothing to remove, and that is no error.
 */
export class DeleteAvatarCommand extends Command<void> {
  constructor(readonly actor: Actor) {
    super();
  }
}

@CommandHandler(DeleteAvatarCommand)
export class DeleteAvatarHandler implements ICommandHandler<DeleteAvatarCommand> {
  constructor(
    private readonly blobs: Blobs,
    private readonly avatars: AvatarRepository,
    private readonly commands: CommandBus,
  ) {}

  async execute({ actor }: DeleteAvatarCommand): Promise<void> {
    const outcome: { removed: { blobHash: string; size: number } | null } = { removed: null };
    await this.commands.execute(
      new SetAvatarUrlCommand(actor.userId, async (manager) => {
        outcome.removed = await this.avatars.delete(manager, actor.userId);
        if (outcome.removed) await this.blobs.release(manager, outcome.removed.blobHash);
        return null;
      }),
    );
    const { removed } = outcome;
    if (!removed) return;
    // Committed: the bytes go unless something else still holds them.
    await this.blobs.collect([removed.blobHash]);
    noteForAudit(actor, { size: removed.size, hash: removed.blobHash });
  }
}
