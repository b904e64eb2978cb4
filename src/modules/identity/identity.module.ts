import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PlansModule } from '../plans/plans.module';
import { AuthGuard } from '../../common/auth/auth.guard';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder';
import { AuthStateCache } from './auth-state.cache';
import { ChangePasswordHandler } from './commands/change-password.command';
import { CreateApiKeyHandler } from './commands/create-api-key.command';
import { CreateUserHandler } from './commands/create-user.command';
import { EnsureFirstAdminHandler } from './commands/ensure-first-admin.command';
import { LoginHandler } from './commands/login.command';
import { RefreshTokensHandler } from './commands/refresh-tokens.command';
import { RegisterUserHandler } from './commands/register-user.command';
import { RevokeSessionsHandler } from './commands/revoke-sessions.command';
import { SetAvatarUrlHandler } from './commands/set-avatar-url.command';
import { UpdateProfileHandler } from './commands/update-profile.command';
import { ApiKeyEntity } from './entities/api-key.entity';
import { UserSessionEntity } from './entities/user-session.entity';
import { UserEntity } from './entities/user.entity';
import { DeleteApiKeyHandler } from './commands/delete-api-key.command';
import { ToggleApiKeyHandler } from './commands/toggle-api-key.command';
import { UpdateApiKeyHandler } from './commands/update-api-key.command';
import { UpdateUserHandler } from './commands/update-user.command';
import { ApiKeyStrategy } from './auth/api-key.strategy';
import { JwtStrategy } from './auth/jwt.strategy';
import { AdminUsersController } from './http/admin-users.controller';
import { ApiKeysController } from './http/api-keys.controller';
import { AuthController } from './http/auth.controller';
import { ProfileController } from './http/profile.controller';
import { UsersController } from './http/users.controller';
import { LoginLockout } from './login-lockout';
import { PasswordHasher } from './password-hasher';
import { GetProfileHandler } from './queries/get-profile.query';
import { GetUserCardsHandler } from './queries/get-user-cards.query';
import { GetUserDetailsHandler } from './queries/get-user-details.query';
import { GetUserHandler } from './queries/get-user.query';
import { ListApiKeysHandler } from './queries/list-api-keys.query';
import { GetApiKeyAiLimitsHandler } from './queries/get-api-key-ai-limits.query';
import { AuthenticateTokenHandler } from './queries/authenticate-token.query';
import { Principals } from './principals';
import { ListSessionsHandler } from './queries/list-sessions.query';
import { ListUsersHandler } from './queries/list-users.query';
import { SearchUsersHandler } from './queries/search-users.query';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { SessionRepository } from './repositories/session.repository';
import { UserRepository } from './repositories/user.repository';
import { SessionCleanupJob } from './session-cleanup.job';
import { SessionIssuer } from './session-issuer';
import { TokenService } from './token.service';

const controllers = [AuthController, UsersController, ProfileController, ApiKeysController, AdminUsersController];
const commandHandlers = [
  RegisterUserHandler, LoginHandler, RefreshTokensHandler, RevokeSessionsHandler, ChangePasswordHandler,
  CreateApiKeyHandler, UpdateApiKeyHandler, ToggleApiKeyHandler, DeleteApiKeyHandler,
  CreateUserHandler, UpdateUserHandler, EnsureFirstAdminHandler,
  SetAvatarUrlHandler, UpdateProfileHandler,
];
const queryHandlers = [
  GetUserHandler, GetUserDetailsHandler, ListUsersHandler, ListSessionsHandler, ListApiKeysHandler, GetApiKeyAiLimitsHandler, AuthenticateTokenHandler,
  // For other contexts (through the QueryBus) as well.
  GetProfileHandler, GetUserCardsHandler, SearchUsersHandler,
];
const repositories = [UserRepository, SessionRepository, ApiKeyRepository];
const services = [PasswordHasher, TokenService, SessionIssuer, LoginLockout, AuthStateCache, ApiKeyUsageRecorder, SessionCleanupJob, Principals];

@Module({
  // Plans: GetPlanQuery (how many API keys a plan allows).
  imports: [TypeOrmModule.forFeature([UserEntity, UserSessionEntity, ApiKeyEntity]), PlansModule],
  controllers,
  providers: [
    ...commandHandlers,
    ...queryHandlers,
    ...repositories,
    ...services,
    // The passport strategies the global AuthGuard asks (by name: see common/auth/credentials.ts).
    JwtStrategy,
    ApiKeyStrategy,
    AuthGuard,
  ],
  exports: [AuthGuard],
})
export class IdentityModule {}
