import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetUserCardsQuery, UserCard } from '../identity/queries/get-user-cards.query';

/** A post's or comment's author as lists show them. */
export interface Author {
  id: string;
  username: string;
  avatar_url: string | null;
}

/** The authors of a page, from the identity context in one query (never one per row). */
@Injectable()
export class Authors {
  constructor(private readonly queries: QueryBus) {}

  async cardsOf(ids: Iterable<string | null>): Promise<Map<string, UserCard>> {
    const unique = [...new Set([...ids].filter((id): id is string => id !== null))];
    if (unique.length === 0) return new Map();
    const cards = await this.queries.execute(new GetUserCardsQuery(unique));
    return new Map(cards.map((card) => [card.id, card]));
  }

  async authorsOf(ids: Iterable<string | null>): Promise<Map<string, Author>> {
    const cards = await this.cardsOf(ids);
    return new Map([...cards].map(([id, card]) => [id, toAuthor(card)]));
  }
}

export function toAuthor(card: UserCard): Author {
  return { id: card.id, username: card.username, avatar_url: card.avatar_url };
}
