import { Injectable } from '@nestjs/common';
import { ClientInfo } from '../../common/http/client-info';
import { IssuedTokens, sha256, TokenService } from './token.service';

type Queryable = { query: (sql: string, params: unknown[]) => Promise<unknown> };

/**
 * Opens a login session and issues its first token pair. One statement inserts
 * the session and stamps the login on the user (clearing any failed-login
 * count), so a login costs a single round trip besides reading the user.
 */
@Injectable()
export class SessionIssuer {
  constructor(private readonly tokens: TokenService) {}

  async open(db: Queryable, user: { id: string; email: string; username: string; role: string }, client: ClientInfo): Promise<IssuedTokens> {
    const sessionId = this.tokens.newSessionId();
    const secret = this.tokens.newRefreshSecret();
    await db.query(
      `WITH session AS (
         INSERT INTO user_sessions (id, user_id, refresh_token_hash, ip, user_agent, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
       )
       UPDATE users SET last_login_at = now(), failed_login_count = 0, failed_login_window_start = NULL, locked_until = NULL
        WHERE id = $2`,
      [sessionId, user.id, sha256(secret), client.ip, client.userAgent, this.tokens.refreshTtlSeconds],
    );
    return this.tokens.issue(user, sessionId, secret);
  }
}
