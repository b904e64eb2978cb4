import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { SnippetRepository } from '../repositories/snippet.repository';

/** Deletes one of the caller's snippets (an admin: anyone's); copies saved from it keep their code (saved_from_id becomes null). */
export class DeleteSnippetCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteSnippetCommand)
export class DeleteSnippetHandler implements ICommandHandler<DeleteSnippetCommand> {
  constructor(private readonly snippets: SnippetRepository) {}

  async execute({ actor, id }: DeleteSnippetCommand): Promise<void> {
    const ownerId = await this.snippets.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('Snippet');
    // The checked owner is part of the condition: the statement deletes nothing the check did not allow. False: a concurrent delete won.
    if (!(await this.snippets.deleteOwned(id, ownerId))) throw AppError.notFound('Snippet');
  }
}
