import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Principal } from '../../../common/auth/principal';
import { Principals } from '../principals';

/**
 * Who a token belongs to: an access token (JWT) or an API key (`sk-…`), as the
 * HTTP guard would judge it. Throws the same AppErrors (UNAUTHORIZED,
 * TOKEN_EXPIRED, TOKEN_REVOKED, ACCOUNT_DISABLED). For credentials that do not
 * come in an HTTP request: the WebSocket gateway's `?token=` and auth message.
 */
export class AuthenticateTokenQuery extends Query<Principal> {
  constructor(readonly token: string) {
    super();
  }
}

@QueryHandler(AuthenticateTokenQuery)
export class AuthenticateTokenHandler implements IQueryHandler<AuthenticateTokenQuery> {
  constructor(private readonly principals: Principals) {}

  execute({ token }: AuthenticateTokenQuery): Promise<Principal> {
    return this.principals.ofToken(token);
  }
}
