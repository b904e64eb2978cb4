import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { ClientInfo } from '../../../common/http/client-info';
import { AuthStateCache } from '../auth-state.cache';
import { SessionRepository } from '../repositories/session.repository';
import { UserRepository } from '../repositories/user.repository';
import { IssuedTokens, sha256, TokenService } from '../token.service';

export class RefreshTokensCommand extends Command<IssuedTokens> {
  constructor(
    readonly refreshToken: string,
    readonly client: ClientInfo,
  ) {
    super();
  }
}

type Outcome = { tokens: IssuedTokens } | { error: AppError; revokedUserId?: string };

/**
 * Rotates the refresh token. Presenting a token that was already rotated means
 * it leaked (or was replayed): the whole session is revoked.
 */
@CommandHandler(RefreshTokensCommand)
export class RefreshTokensHandler implements ICommandHandler<RefreshTokensCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly tokens: TokenService,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ refreshToken, client }: RefreshTokensCommand): Promise<IssuedTokens> {
    const parsed = this.tokens.parseRefresh(refreshToken);
    if (!parsed) throw new AppError(ErrorCode.UNAUTHORIZED, 'Invalid refresh token');

    // The revocation on reuse must commit, so the transaction returns the error
    // instead of throwing it.
    const outcome = await this.dataSource.transaction(async (manager): Promise<Outcome> => {
      const session = await this.sessions.lockForUpdate(parsed.sessionId, manager);
      if (!session) return { error: new AppError(ErrorCode.UNAUTHORIZED, 'Invalid refresh token') };
      if (session.revokedAt) return { error: new AppError(ErrorCode.TOKEN_REVOKED, 'This session has been revoked') };
      if (session.refreshTokenHash !== parsed.secretHash) {
        await this.sessions.revokeById(session.id, 'refresh_reuse', manager);
        return {
          error: new AppError(ErrorCode.TOKEN_REVOKED, 'Refresh token reuse detected; the session has been revoked'),
          revokedUserId: session.userId,
        };
      }
      if (session.expiresAt.getTime() <= Date.now()) {
        return { error: new AppError(ErrorCode.TOKEN_EXPIRED, 'Refresh token has expired; log in again') };
      }
      const user = await this.users.getById(session.userId, manager);
      if (user.status === 'deleted') return { error: new AppError(ErrorCode.TOKEN_REVOKED, 'This session has been revoked') };
      if (user.status === 'disabled') return { error: new AppError(ErrorCode.ACCOUNT_DISABLED, 'This account is disabled') };

      const secret = this.tokens.newRefreshSecret();
      await this.sessions.rotateRefreshToken(session.id, sha256(secret), client, manager);
      return { tokens: this.tokens.issue(user, session.id, secret) };
    });

    if ('tokens' in outcome) return outcome.tokens;
    if (outcome.revokedUserId) await this.state.userChanged(outcome.revokedUserId);
    throw outcome.error;
  }
}
