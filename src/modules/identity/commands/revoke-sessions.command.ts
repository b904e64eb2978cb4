import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { UserSessionEntity } from '../entities/user-session.entity';

/**
 * Which live sessions to end: one by id (the actor's own; an admin's: anyone's),
 * or the actor's own sessions, all or all but one.
 */
export type SessionScope = { only: string } | { allExcept: string } | { all: true };

/** Logout, logout-all, revoking one session, and "sign out elsewhere". */
export class RevokeSessionsCommand extends Command<number> {
  constructor(
    readonly actor: Actor,
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

  async execute({ actor, scope, reason }: RevokeSessionsCommand): Promise<number> {
    const userId = 'only' in scope ? await this.ownerOf(actor, scope.only) : actor.userId;
    // The statement is limited to that owner's sessions, so it ends nothing the check did not allow.
    const revoked = await revokeSessions(this.dataSource, userId, scope, reason);
    if ('only' in scope && revoked === 0) throw AppError.notFound('Session');
    // The owner's cached session state is what changed, whoever revoked it.
    await this.state.userChanged(userId);
    return revoked;
  }

  /** Whose session this is, if the actor may end it; else 404 (someone else's session is not revealed to exist). */
  private async ownerOf(actor: Actor, sessionId: string): Promise<string> {
    const session = await this.dataSource.getRepository(UserSessionEntity).findOneBy({ id: sessionId });
    if (!session || !mayActOn(actor, session.userId)) throw AppError.notFound('Session');
    return session.userId;
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
