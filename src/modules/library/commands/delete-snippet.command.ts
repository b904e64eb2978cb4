import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { SnippetEntity } from '../entities/snippet.entity';

/** Deletes one of the caller's snippets; copies saved from it keep their code (saved_from_id becomes null). */
export class DeleteSnippetCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteSnippetCommand)
export class DeleteSnippetHandler implements ICommandHandler<DeleteSnippetCommand> {
  constructor(@InjectRepository(SnippetEntity) private readonly snippets: Repository<SnippetEntity>) {}

  async execute({ userId, id }: DeleteSnippetCommand): Promise<void> {
    const result = await this.snippets.delete({ id, userId });
    if (!result.affected) throw AppError.notFound('Snippet');
  }
}
