import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { SnippetEntity } from '../entities/snippet.entity';
import type { SnippetInput } from './create-snippet.command';

/** Changes the fields given of one of the caller's snippets; anyone else's answers 404. */
export class UpdateSnippetCommand extends Command<SnippetEntity> {
  constructor(
    readonly userId: string,
    readonly id: string,
    readonly changes: Partial<SnippetInput>,
  ) {
    super();
  }
}

@CommandHandler(UpdateSnippetCommand)
export class UpdateSnippetHandler implements ICommandHandler<UpdateSnippetCommand> {
  constructor(@InjectRepository(SnippetEntity) private readonly snippets: Repository<SnippetEntity>) {}

  async execute({ userId, id, changes }: UpdateSnippetCommand): Promise<SnippetEntity> {
    const set: Partial<SnippetEntity> = { updatedAt: new Date() };
    if (changes.title !== undefined) set.title = changes.title;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.code !== undefined) set.code = changes.code;
    if (changes.language !== undefined) set.language = changes.language;
    if (changes.tags !== undefined) set.tags = changes.tags;
    if (changes.is_public !== undefined) set.isPublic = changes.is_public;
    if (changes.environment_id !== undefined) set.environmentId = changes.environment_id;
    // One statement: the owner check and the change cannot be separated by a concurrent delete.
    const result = await this.snippets.update({ id, userId }, set);
    if (!result.affected) throw AppError.notFound('Snippet');
    return this.snippets.findOneByOrFail({ id });
  }
}
