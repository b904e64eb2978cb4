import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, IsUrl, Length, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { Pagination, PageQuery } from '../../../../common/http/pagination';
import { IssuedTokens } from '../../token.service';
import { UserView } from '../../user.mapper';
import { ApiRequestExample } from '../../../../common/http/swagger';

export const USERNAME_PATTERN = /^[a-zA-Z0-9_-]{3,32}$/;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class UserResponse implements UserView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ada_l' }) username!: string;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ enum: ['user', 'admin'] }) role!: string;
  @ApiProperty({ example: 'free' }) level!: string;
  @ApiProperty({ enum: ['active', 'disabled', 'deleted'] }) status!: string;
  @ApiProperty() email_verified!: boolean;
  @ApiProperty({ type: String, nullable: true }) avatar_url!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_login_at!: string | null;
}

class UserCounts {
  @ApiProperty() active_sessions!: number;
  @ApiProperty() api_keys!: number;
}

export class UserDetailsResponse extends UserResponse {
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) locked_until!: string | null;
  @ApiProperty({ type: UserCounts }) counts!: UserCounts;
}

export class TokensResponse implements IssuedTokens {
  @ApiProperty({ description: 'JWT access token (30 min)' }) access!: string;
  @ApiProperty({ description: 'Opaque refresh token (7 days), rotated on every refresh' }) refresh!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
  @ApiProperty({ example: 1800 }) expires_in!: number;
}

export class AuthResponse {
  @ApiProperty({ type: UserResponse }) user!: UserResponse;
  @ApiProperty({ type: TokensResponse }) tokens!: TokensResponse;
}

@ApiRequestExample({ username: 'ada_l', email: 'ada@example.com', password: 'correct-horse-battery', name: 'Ada Lovelace' })
export class RegisterRequest {
  @ApiProperty({ example: 'ada_l', pattern: USERNAME_PATTERN.source })
  @Transform(trim) @IsString() @Matches(USERNAME_PATTERN, { message: 'username must be 3-32 characters of letters, digits, _ or -' })
  username!: string;

  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trim) @IsEmail() @MaxLength(255)
  email!: string;

  @ApiProperty({ minLength: 8, maxLength: 72, example: 'correct-horse-battery' })
  @IsString() @MinLength(8) @MaxLength(72)
  password!: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, 100)
  name?: string;
}

/** `username` or `email` (or both: username wins); each is validated when sent. */
@ApiRequestExample({ username: 'ada_l', password: 'correct-horse-battery' })
export class LoginRequest {
  @ApiPropertyOptional({ description: 'Username, or an email address; required without `email`', example: 'ada_l' })
  @ValidateIf((body: LoginRequest) => body.username !== undefined || body.email === undefined)
  @Transform(trim) @IsString() @Length(1, 255)
  username?: string;

  @ApiPropertyOptional({ description: 'Required without `username`', example: 'ada@example.com' })
  @IsOptionalNotNull()
  @Transform(trim) @IsString() @Length(1, 255)
  email?: string;

  @ApiProperty({ example: 'correct-horse-battery' })
  @IsString() @Length(1, 200)
  password!: string;
}

@ApiRequestExample({ grant_type: 'password', username: 'ada_l', password: 'correct-horse-battery' })
export class OAuthTokenRequest {
  @ApiProperty({ enum: ['password'], example: 'password' }) @IsIn(['password']) grant_type!: string;
  @ApiProperty({ description: 'Username or email', example: 'ada_l' }) @IsString() @Length(1, 255) username!: string;
  @ApiProperty({ example: 'correct-horse-battery' }) @IsString() @Length(1, 200) password!: string;
  @ApiPropertyOptional({ description: 'Ignored; accepted for OAuth2 clients' }) @IsOptionalNotNull() @IsString() scope?: string;
  @ApiPropertyOptional({ description: 'Ignored; accepted for OAuth2 clients' }) @IsOptionalNotNull() @IsString() client_id?: string;
  @ApiPropertyOptional({ description: 'Ignored; accepted for OAuth2 clients' }) @IsOptionalNotNull() @IsString() client_secret?: string;
}

export class OAuthTokenResponse {
  @ApiProperty() access_token!: string;
  @ApiProperty({ enum: ['bearer'] }) token_type!: 'bearer';
  @ApiProperty() expires_in!: number;
  @ApiProperty() refresh_token!: string;
}

// A refresh token cannot be made up: the example only shows where it goes.
@ApiRequestExample({ refresh_token: 'paste the refresh token from /auth/login' })
export class RefreshRequest {
  @ApiProperty({ description: '`tokens.refresh` of /auth/login, /auth/register or the last /auth/refresh' }) @IsString() @Length(1, 200) refresh_token!: string;
}

export class TokensEnvelope {
  @ApiProperty({ type: TokensResponse }) tokens!: TokensResponse;
}

export class SuccessResponse {
  @ApiProperty({ example: true }) success!: true;
}

export class RevokedResponse extends SuccessResponse {
  @ApiProperty({ description: 'How many sessions were revoked' }) revoked!: number;
}

@ApiRequestExample({ current_password: 'correct-horse-battery', new_password: 'correct-horse-battery-staple' })
export class ChangePasswordRequest {
  @ApiProperty() @IsString() @Length(1, 200) current_password!: string;
  @ApiProperty({ minLength: 8, maxLength: 72 }) @IsString() @MinLength(8) @MaxLength(72) new_password!: string;
}

@ApiRequestExample({ new_password: 'correct-horse-battery-staple' })
export class ResetPasswordRequest {
  @ApiProperty({ minLength: 8, maxLength: 72 }) @IsString() @MinLength(8) @MaxLength(72) new_password!: string;
}

export class SessionResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) user_agent!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) last_used_at!: string;
  @ApiProperty({ format: 'date-time' }) expires_at!: string;
  @ApiProperty({ description: 'The session this request uses' }) current!: boolean;
}

export class SessionListResponse {
  @ApiProperty({ type: [SessionResponse] }) sessions!: SessionResponse[];
}

@ApiRequestExample({ username: 'grace_h', email: 'grace@example.com', password: 'correct-horse-battery', name: 'Grace Hopper', role: 'user', level: 'free' })
export class AdminCreateUserRequest extends RegisterRequest {
  @ApiPropertyOptional({ enum: ['user', 'admin'], default: 'user' }) @IsOptionalNotNull() @IsIn(['user', 'admin']) role?: 'user' | 'admin';
  @ApiPropertyOptional({ default: 'free' }) @IsOptionalNotNull() @IsString() @Length(1, 20) level?: string;
  @ApiPropertyOptional({ enum: ['active', 'disabled'], default: 'active' }) @IsOptionalNotNull() @IsIn(['active', 'disabled']) status?: 'active' | 'disabled';
  @ApiPropertyOptional({ default: false }) @IsOptionalNotNull() @IsBoolean() email_verified?: boolean;
}

@ApiRequestExample({ name: 'Grace Hopper', level: 'basic' })
export class AdminUpdateUserRequest {
  @ApiPropertyOptional({ pattern: USERNAME_PATTERN.source })
  @IsOptionalNotNull() @Transform(trim) @IsString() @Matches(USERNAME_PATTERN, { message: 'username must be 3-32 characters of letters, digits, _ or -' })
  username?: string;

  @ApiPropertyOptional() @IsOptionalNotNull() @Transform(trim) @IsEmail() @MaxLength(255) email?: string;
  @ApiPropertyOptional({ type: String, nullable: true }) @IsOptional() @IsString() @Length(1, 100) name?: string | null;
  @ApiPropertyOptional({ enum: ['user', 'admin'] }) @IsOptionalNotNull() @IsIn(['user', 'admin']) role?: 'user' | 'admin';
  @ApiPropertyOptional() @IsOptionalNotNull() @IsString() @Length(1, 20) level?: string;
  @ApiPropertyOptional({ enum: ['active', 'disabled', 'deleted'] }) @IsOptionalNotNull() @IsIn(['active', 'disabled', 'deleted']) status?: 'active' | 'disabled' | 'deleted';
  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() email_verified?: boolean;
  @ApiPropertyOptional({ type: String, nullable: true }) @IsOptional() @IsUrl({ protocols: ['http', 'https'], require_protocol: true }) @MaxLength(500) avatar_url?: string | null;
}

export class ListUsersRequest extends PageQuery {
  @ApiPropertyOptional({ description: 'Part of a username or email' }) @IsOptionalNotNull() @IsString() @Length(1, 100) search?: string;
  @ApiPropertyOptional({ enum: ['user', 'admin'] }) @IsOptionalNotNull() @IsIn(['user', 'admin']) role?: string;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsString() @Length(1, 20) level?: string;
  @ApiPropertyOptional({ enum: ['active', 'disabled', 'deleted'] }) @IsOptionalNotNull() @IsIn(['active', 'disabled', 'deleted']) status?: string;
}

export class UserListResponse {
  @ApiProperty({ type: [UserResponse] }) users!: UserResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}
