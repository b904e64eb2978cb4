import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { SnippetRepository } from '../repositories/snippet.repository';

/** How many snippets a user has: all of them, or (`publicOnly`) those anyone may read. */
export class CountSnippetsQuery extends Query<number> {
  constructor(
    readonly userId: string,
    readonly publicOnly: boolean,
  ) {
    super();
  }
}

@QueryHandler(CountSnippetsQuery)
export class CountSnippetsHandler implements IQueryHandler<CountSnippetsQuery> {
  constructor(private readonly snippets: SnippetRepository) {}

  execute({ userId, publicOnly }: CountSnippetsQuery): Promise<number> {
    return this.snippets.countOwned(userId, publicOnly);
  }
}
