import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { SessionRepository } from '../repositories/session.repository';

export interface SessionView {
  id: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  current: boolean;
}

/** The caller's live sessions, newest first; `current` marks the one in use. */
export class ListSessionsQuery extends Query<SessionView[]> {
  constructor(
    readonly userId: string,
    readonly currentSessionId?: string,
  ) {
    super();
  }
}

@QueryHandler(ListSessionsQuery)
export class ListSessionsHandler implements IQueryHandler<ListSessionsQuery> {
  constructor(private readonly sessions: SessionRepository) {}

  async execute({ userId, currentSessionId }: ListSessionsQuery): Promise<SessionView[]> {
    const sessions = await this.sessions.listLive(userId);
    return sessions.map((s) => ({
      id: s.id,
      ip: s.ip,
      user_agent: s.userAgent,
      created_at: s.createdAt.toISOString(),
      last_used_at: s.lastUsedAt.toISOString(),
      expires_at: s.expiresAt.toISOString(),
      current: s.id === currentSessionId,
    }));
  }
}
