import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { uuidv7 } from '../../../common/ids';
import { SnippetEntity, SnippetLanguage } from '../entities/snippet.entity';

export interface SnippetInput {
  title: string;
  description?: string;
  code: string;
  language?: SnippetLanguage;
  tags?: string[];
  is_public?: boolean;
  environment_id?: string | null;
}

/** Adds a snippet to the caller's library. */
export class CreateSnippetCommand extends Command<SnippetEntity> {
  constructor(
    readonly userId: string,
    readonly input: SnippetInput,
  ) {
    super();
  }
}

@CommandHandler(CreateSnippetCommand)
export class CreateSnippetHandler implements ICommandHandler<CreateSnippetCommand> {
  constructor(@InjectRepository(SnippetEntity) private readonly snippets: Repository<SnippetEntity>) {}

  async execute({ userId, input }: CreateSnippetCommand): Promise<SnippetEntity> {
    const now = new Date();
    const row = this.snippets.create({
      id: uuidv7(),
      userId,
      title: input.title,
      description: input.description ?? '',
      code: input.code,
      language: input.language ?? 'python',
      tags: input.tags ?? [],
      isPublic: input.is_public ?? false,
      environmentId: input.environment_id ?? null,
      savedFromId: null,
      createdAt: now,
      updatedAt: now,
    });
    await this.snippets.insert(row);
    return row;
  }
}
