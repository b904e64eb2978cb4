import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { SessionRepository, SessionScope } from '../repositories/session.repository';

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
    private readonly sessions: SessionRepository,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ actor, scope, reason }: RevokeSessionsCommand): Promise<number> {
    const userId = 'only' in scope ? await this.ownerOf(actor, scope.only) : actor.userId;
    // The statement is limited to that owner's sessions, so it ends nothing the check did not allow.
    const revoked = await this.sessions.revokeSessions(userId, scope, reason);
    if ('only' in scope && revoked === 0) throw AppError.notFound('Session');
    // The owner's cached session state is what changed, whoever revoked it.
    await this.state.userChanged(userId);
    return revoked;
  }

  /** Whose session this is, if the actor may end it; else 404 (someone else's session is not revealed to exist). */
  private async ownerOf(actor: Actor, sessionId: string): Promise<string> {
    const session = await this.sessions.findById(sessionId);
    if (!session || !mayActOn(actor, session.userId)) throw AppError.notFound('Session');
    return session.userId;
  }
}
