import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';

/** Which of a user's live sessions to end. */
export type SessionScope = { only: string } | { allExcept: string } | { all: true };

/** Logout, logout-all, revoking one session, and "sign out elsewhere". */
export class RevokeSessionsCommand extends Command<number> {
  constructor(
    readonly userId: string,
    readonly scope: SessionScope,
    readonly reason: string,
  ) {
    super();
  }
}

@CommandHandler(RevokeSessionsCommand)
export class RevokeSessionsHandler implements ICommandHandler<RevokeSessionsCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ userId, scope, reason }: RevokeSessionsCommand): Promise<number> {
    const revoked = await revokeSessions(this.dataSource, userId, scope, reason);
    if ('only' in scope && revoked === 0) throw AppError.notFound('Session');
    await this.state.userChanged(userId);
    return revoked;
  }
}

/** Shared with the handlers that revoke sessions inside their own transaction. */
export async function revokeSessions(
  db: { query: (sql: string, params: unknown[]) => Promise<unknown> },
  userId: string,
  scope: SessionScope,
  reason: string,
): Promise<number> {
  const params: unknown[] = [userId, reason];
  let filter = '';
  if ('only' in scope) {
    params.push(scope.only);
    filter = 'AND id = $3';
  } else if ('allExcept' in scope) {
    params.push(scope.allExcept);
    filter = 'AND id <> $3';
  }
  const result = (await db.query(
    `UPDATE user_sessions SET revoked_at = now(), revoked_reason = $2
      WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ${filter}`,
    params,
  )) as [unknown, number];
  return result[1];
}
