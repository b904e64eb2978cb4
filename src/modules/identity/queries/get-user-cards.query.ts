import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { UserRepository } from '../repositories/user.repository';
import { toUserCard, UserCard } from '../user.mapper';

export type { UserCard } from '../user.mapper';

/**
 * The cards of the users these ids name, for other contexts showing who wrote,
 * liked or follows something: one per id that names a user who is not
 * deleted (disabled users keep their card), in no particular order, one
 * statement however many ids. Ids that name nobody are left out, as are
 * strings that are no UUID.
 */
export class GetUserCardsQuery extends Query<UserCard[]> {
  constructor(readonly ids: string[]) {
    super();
  }
}

@QueryHandler(GetUserCardsQuery)
export class GetUserCardsHandler implements IQueryHandler<GetUserCardsQuery> {
  constructor(private readonly users: UserRepository) {}

  async execute({ ids }: GetUserCardsQuery): Promise<UserCard[]> {
    return (await this.users.findCards(ids)).map(toUserCard);
  }
}
