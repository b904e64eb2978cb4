import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { SnippetEntity } from '../entities/snippet.entity';

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
  constructor(@InjectRepository(SnippetEntity) private readonly snippets: Repository<SnippetEntity>) {}

  async execute({ actor, id }: DeleteSnippetCommand): Promise<void> {
    const snippet = await this.snippets.findOne({ select: { userId: true }, where: { id } });
    if (!snippet || !mayActOn(actor, snippet.userId)) throw AppError.notFound('Snippet');
    // The checked owner is part of the condition: the statement deletes nothing the check did not allow. 0 rows: a concurrent delete won.
    const result = await this.snippets.delete({ id, userId: snippet.userId });
    if (!result.affected) throw AppError.notFound('Snippet');
  }
}
