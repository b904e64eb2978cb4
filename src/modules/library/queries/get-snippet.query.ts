import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayRead } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { SnippetEntity } from '../entities/snippet.entity';
import { SnippetRepository } from '../repositories/snippet.repository';

/**
 * A snippet the caller may read: their own, a public one, or any for an admin.
 * Someone else's private snippet answers 404, as if it did not exist.
 */
export class GetSnippetQuery extends Query<SnippetEntity> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetSnippetQuery)
export class GetSnippetHandler implements IQueryHandler<GetSnippetQuery> {
  constructor(private readonly snippets: SnippetRepository) {}

  async execute({ id, actor }: GetSnippetQuery): Promise<SnippetEntity> {
    const row = await this.snippets.findById(id);
    if (!row || !mayRead(actor, row)) throw AppError.notFound('Snippet');
    return row;
  }
}
