import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ClientInfo } from '../../common/http/client-info';
import { SessionRepository } from './repositories/session.repository';
import { IssuedTokens, sha256, TokenService } from './token.service';

/**
 * Opens a login session and issues its first token pair. The session is
 * inserted and the login stamped on the user (clearing any failed-login count)
 * in one statement (SessionRepository.openForLogin).
 */
@Injectable()
export class SessionIssuer {
  constructor(
    private readonly tokens: TokenService,
    private readonly sessions: SessionRepository,
  ) {}

  /** With `manager`, inside the caller's transaction (registration opens the new user's first session). */
  async open(
    user: { id: string; email: string; username: string; role: string },
    client: ClientInfo,
    manager?: EntityManager,
  ): Promise<IssuedTokens> {
    const sessionId = this.tokens.newSessionId();
    const secret = this.tokens.newRefreshSecret();
    await this.sessions.openForLogin(
      { id: sessionId, userId: user.id, refreshTokenHash: sha256(secret), client, ttlSeconds: this.tokens.refreshTtlSeconds },
      manager,
    );
    return this.tokens.issue(user, sessionId, secret);
  }
}
