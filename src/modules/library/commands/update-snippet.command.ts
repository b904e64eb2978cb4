import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { SnippetEntity } from '../entities/snippet.entity';
import type { SnippetInput } from './create-snippet.command';

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
  constructor(@InjectRepository(SnippetEntity) private readonly snippets: Repository<SnippetEntity>) {}

  async execute({ actor, id, changes }: UpdateSnippetCommand): Promise<SnippetEntity> {
    const snippet = await this.snippets.findOne({ select: { userId: true }, where: { id } });
    if (!snippet || !mayActOn(actor, snippet.userId)) throw AppError.notFound('Snippet');
    const set: Partial<SnippetEntity> = { updatedAt: new Date() };
    if (changes.title !== undefined) set.title = changes.title;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.code !== undefined) set.code = changes.code;
    if (changes.language !== undefined) set.language = changes.language;
    if (changes.tags !== undefined) set.tags = changes.tags;
    if (changes.is_public !== undefined) set.isPublic = changes.is_public;
    if (changes.environment_id !== undefined) set.environmentId = changes.environment_id;
    // The checked owner is part of the condition: the statement changes nothing the check did not allow. 0 rows: a concurrent delete won.
    const result = await this.snippets.update({ id, userId: snippet.userId }, set);
    if (!result.affected) throw AppError.notFound('Snippet');
    // Deleted right after the change: as gone as if the delete had come first.
    const updated = await this.snippets.findOneBy({ id });
    if (!updated) throw AppError.notFound('Snippet');
    return updated;
  }
}
