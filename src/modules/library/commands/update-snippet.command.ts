import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { SnippetEntity } from '../entities/snippet.entity';
import { SnippetRepository } from '../repositories/snippet.repository';
import { assertMayRunWith, SnippetInput } from './create-snippet.command';

/** Changes the fields given of one of the caller's snippets (an admin: anyone's); anyone else's answers 404. */
export class UpdateSnippetCommand extends Command<SnippetEntity> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly changes: Partial<SnippetInput>,
  ) {
    super();
  }
}

@CommandHandler(UpdateSnippetCommand)
export class UpdateSnippetHandler implements ICommandHandler<UpdateSnippetCommand> {
  constructor(
    private readonly snippets: SnippetRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor, id, changes }: UpdateSnippetCommand): Promise<SnippetEntity> {
    const ownerId = await this.snippets.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('Snippet');
    // null detaches the environment; nothing to check then.
    if (changes.environment_id) await assertMayRunWith(this.queries, actor, changes.environment_id);
    const set: Partial<SnippetEntity> = { updatedAt: new Date() };
    if (changes.title !== undefined) set.title = changes.title;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.code !== undefined) set.code = changes.code;
    if (changes.language !== undefined) set.language = changes.language;
    if (changes.tags !== undefined) set.tags = changes.tags;
    if (changes.is_public !== undefined) set.isPublic = changes.is_public;
    if (changes.environment_id !== undefined) set.environmentId = changes.environment_id;
    // The checked owner is part of the condition: the statement changes nothing the check did not allow. False: a concurrent delete won.
    if (!(await this.snippets.updateOwned(id, ownerId, set))) throw AppError.notFound('Snippet');
    // Deleted right after the change: as gone as if the delete had come first.
    const updated = await this.snippets.findById(id);
    if (!updated) throw AppError.notFound('Snippet');
    return updated;
  }
}
