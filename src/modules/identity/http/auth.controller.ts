import { Body, Controller, Delete, Get, HttpCode, Post, UseFilters } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse,
  ApiExtraModels, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse, getSchemaPath,
} from '@nestjs/swagger';
import { Authenticated, CurrentUser, Public } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse, OAuth2ErrorResponse } from '../../../common/errors/error-response.dto';
import { OAuth2ErrorFilter } from '../../../common/errors/oauth2-error.filter';
import { AcceptsFormBody } from '../../../common/http/body-parsers';
import { Client, ClientInfo } from '../../../common/http/client-info';
import { UuidParam } from '../../../common/http/uuid-param';
import { ChangePasswordCommand } from '../commands/change-password.command';
import { LoginCommand } from '../commands/login.command';
import { RefreshTokensCommand } from '../commands/refresh-tokens.command';
import { RegisterUserCommand } from '../commands/register-user.command';
import { RevokeSessionsCommand } from '../commands/revoke-sessions.command';
import { GetUserQuery } from '../queries/get-user.query';
import { ListSessionsQuery } from '../queries/list-sessions.query';
import {
  AuthResponse, ChangePasswordRequest, LoginRequest, RegisterRequest, OAuthTokenRequest, OAuthTokenResponse, RefreshRequest,
  RevokedResponse, SessionListResponse, SuccessResponse, TokensEnvelope, UserResponse,
} from './dto/user.dto';

/** The account a login tried, if it was named with a string: recorded for failed logins too. */
function attemptedAccount(request: { body?: unknown }): Record<string, unknown> {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const account = body.username ?? body.email;
  return typeof account === 'string' ? { username: account } : {};
}

@ApiTags('auth')
@ApiExtraModels(OAuth2ErrorResponse)
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('auth')
export class AuthController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('register')
  @Audit({ action: 'user.register', resourceType: 'user', resourceId: (r) => r.user.id, userId: (r) => r.user.id, metadata: (request) => ({ username: (request.body as Record<string, unknown> | undefined)?.username }) })
  @Public()
  @ApiOperation({ summary: 'Create an account and log in' })
  @ApiCreatedResponse({ type: AuthResponse })
  @ApiConflictResponse({ description: 'Username or email taken (case-insensitive)', type: ErrorResponse })
  register(@Body() body: RegisterRequest, @Client() client: ClientInfo): Promise<AuthResponse> {
    return this.commands.execute(new RegisterUserCommand(body.username, body.email, body.password, body.name, client));
  }

  @Post('login')
  @Audit({ action: 'user.login', resourceType: 'user', resourceId: (r) => r.user.id, userId: (r) => r.user.id, metadata: attemptedAccount, refusedMetadata: attemptedAccount })
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in with a username or an email' })
  @ApiOkResponse({ type: AuthResponse })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS', type: ErrorResponse })
  @ApiForbiddenResponse({ description: 'ACCOUNT_DISABLED', type: ErrorResponse })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: the account is locked after 5 failures in 15 minutes (Retry-After), or a rate limit', type: ErrorResponse })
  login(@Body() body: LoginRequest, @Client() client: ClientInfo): Promise<AuthResponse> {
    return this.commands.execute(new LoginCommand((body.username ?? body.email)!, body.password, client));
  }

  @Post('token')
  @Audit({ action: 'user.login', resourceType: 'user', accessToken: (r) => r.access_token, resourceId: (_r, { tokenSubject }) => tokenSubject, metadata: (request) => ({ ...attemptedAccount(request), grant_type: 'password' }), refusedMetadata: attemptedAccount })
  @Public()
  @HttpCode(200)
  @AcceptsFormBody()
  @UseFilters(OAuth2ErrorFilter)
  @ApiOperation({
    summary: 'OAuth2 password grant (used by Swagger UI "Authorize")',
    description:
      'Errors are in the OAuth2 shape (RFC 6749 §5.2) `{error, error_description}`, not the error envelope: ' +
      '400 `invalid_request` (a field missing or invalid), `unsupported_grant_type` (grant_type other than `password`), ' +
      '`invalid_grant` (wrong username or password, or a disabled account). A locked account (too many failed logins) ' +
      'or a rate limit answers 429 `temporarily_unavailable` with Retry-After: RFC 6749 has no code for it, and ' +
      '`invalid_grant` would say the password is wrong. No client authentication is involved, so never `invalid_client`.',
  })
  @ApiOkResponse({ description: 'The tokens (RFC 6749 §5.1)', type: OAuthTokenResponse })
  @ApiBadRequestResponse({
    description: 'invalid_request, unsupported_grant_type or invalid_grant (RFC 6749 §5.2)',
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(OAuth2ErrorResponse) },
        examples: {
          invalid_grant: { summary: 'Wrong username or password', value: { error: 'invalid_grant', error_description: 'Wrong username, email or password' } },
          invalid_request: { summary: 'A field missing', value: { error: 'invalid_request', error_description: 'password must be a string' } },
          unsupported_grant_type: { summary: 'grant_type is not password', value: { error: 'unsupported_grant_type', error_description: 'grant_type must be one of the following values: password' } },
        },
      },
    },
  })
  @ApiTooManyRequestsResponse({
    description: 'temporarily_unavailable: the account is locked after too many failed logins, or a rate limit (Retry-After)',
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(OAuth2ErrorResponse) },
        example: { error: 'temporarily_unavailable', error_description: 'Too many failed logins; this account is locked for a while' },
      },
    },
  })
  async token(@Body() body: OAuthTokenRequest, @Client() client: ClientInfo): Promise<OAuthTokenResponse> {
    const { tokens } = await this.commands.execute(new LoginCommand(body.username, body.password, client));
    return { access_token: tokens.access, token_type: 'bearer', expires_in: tokens.expires_in, refresh_token: tokens.refresh };
  }

  @Post('refresh')
  @Audit({ action: 'session.refresh', resourceType: 'session', resourceId: (r) => String(r.tokens.refresh).split('.')[0], accessToken: (r) => r.tokens.access })
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for a new pair (the old one stops working)' })
  @ApiOkResponse({ type: TokensEnvelope })
  @ApiUnauthorizedResponse({ description: 'UNAUTHORIZED, TOKEN_EXPIRED or TOKEN_REVOKED: invalid, expired or revoked; reuse of a rotated token revokes the session', type: ErrorResponse })
  async refresh(@Body() body: RefreshRequest, @Client() client: ClientInfo): Promise<TokensEnvelope> {
    return { tokens: await this.commands.execute(new RefreshTokensCommand(body.refresh_token, client)) };
  }

  @Post('logout')
  @Audit({ action: 'session.logout', resourceType: 'session', resourceIdFromRequest: (request) => request.principal?.session_id })
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: 'End the current session; its tokens stop working at once' })
  @ApiOkResponse({ type: SuccessResponse })
  async logout(@CurrentUser() user: Principal): Promise<SuccessResponse> {
    await this.commands.execute(new RevokeSessionsCommand(actorOf(user), { only: user.session_id! }, 'logout'));
    return { success: true };
  }

  @Post('logout-all')
  @Audit({ action: 'session.logout_all', resourceType: 'session' })
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: 'End every session of the current user' })
  @ApiOkResponse({ type: RevokedResponse })
  async logoutAll(@CurrentUser() user: Principal): Promise<RevokedResponse> {
    const revoked = await this.commands.execute(new RevokeSessionsCommand(actorOf(user), { all: true }, 'logout_all'));
    return { success: true, revoked };
  }

  @Get('sessions')
  @Authenticated()
  @ApiOperation({ summary: 'The current user\'s active sessions' })
  @ApiOkResponse({ type: SessionListResponse })
  async sessions(@CurrentUser() user: Principal): Promise<SessionListResponse> {
    return { sessions: await this.queries.execute(new ListSessionsQuery(user.user_id, user.session_id)) };
  }

  @Delete('sessions/:id')
  @Audit({ action: 'session.revoke', resourceType: 'session' })
  @Authenticated()
  @ApiOperation({ summary: 'Revoke one of the current user\'s sessions (an admin: anyone\'s)' })
  @ApiOkResponse({ type: SuccessResponse })
  @ApiNotFoundResponse({ description: 'No such active session of yours', type: ErrorResponse })
  async revokeSession(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<SuccessResponse> {
    await this.commands.execute(new RevokeSessionsCommand(actorOf(user), { only: id }, 'revoked'));
    return { success: true };
  }

  @Post('test-token')
  @Audit({ action: 'user.test_token', resourceType: 'user', resourceIdFromRequest: (request) => request.principal?.user_id })
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: 'The current user, if the token is valid' })
  @ApiOkResponse({ type: UserResponse })
  testToken(@CurrentUser() user: Principal): Promise<UserResponse> {
    return this.queries.execute(new GetUserQuery(user.user_id));
  }

  @Get('verify')
  @Authenticated()
  @ApiOperation({ summary: 'The current user, if the token is valid' })
  @ApiOkResponse({ type: UserResponse })
  verify(@CurrentUser() user: Principal): Promise<UserResponse> {
    return this.queries.execute(new GetUserQuery(user.user_id));
  }

  @Get('profile')
  @Authenticated()
  @ApiOperation({ summary: 'The current user (same as /users/me)' })
  @ApiOkResponse({ type: UserResponse })
  profile(@CurrentUser() user: Principal): Promise<UserResponse> {
    return this.queries.execute(new GetUserQuery(user.user_id));
  }

  @Post('change-password')
  @Audit({ action: 'user.change_password', resourceType: 'user', resourceIdFromRequest: (request) => request.principal?.user_id })
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: 'Change the password; every other session is revoked' })
  @ApiOkResponse({ type: SuccessResponse })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS: the current password is wrong', type: ErrorResponse })
  async changePassword(@CurrentUser() user: Principal, @Body() body: ChangePasswordRequest): Promise<SuccessResponse> {
    await this.commands.execute(
      new ChangePasswordCommand(user.user_id, body.new_password, { currentPassword: body.current_password, sessionId: user.session_id }),
    );
    return { success: true };
  }
}
