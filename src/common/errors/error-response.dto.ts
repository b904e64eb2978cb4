import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode } from './error-code';

class ErrorBody {
  @ApiProperty({ enum: ErrorCode, example: ErrorCode.NOT_FOUND })
  code!: string;

  @ApiProperty({ example: 'Snippet not found' })
  message!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: {}, description: 'VALIDATION_ERROR: `fields`; RATE_LIMITED: `retry_after` (seconds); otherwise often empty' })
  details!: Record<string, unknown>;

  @ApiProperty({ example: '5f0c6f7e-2a4b-4c1e-9d7a-1b2c3d4e5f60', description: 'Also in the X-Request-Id header' })
  request_id!: string;
}

/** The error envelope, for Swagger. */
export class ErrorResponse {
  @ApiProperty({ type: ErrorBody })
  error!: ErrorBody;
}

export const OAUTH2_ERRORS = ['invalid_request', 'invalid_grant', 'unsupported_grant_type', 'temporarily_unavailable'] as const;
export type OAuth2ErrorCode = (typeof OAUTH2_ERRORS)[number];

/** The token endpoint's error body (RFC 6749 §5.2), which OAuth2 clients such as Swagger UI read. */
export class OAuth2ErrorResponse {
  @ApiProperty({ enum: OAUTH2_ERRORS, example: 'invalid_grant' })
  error!: OAuth2ErrorCode;

  @ApiPropertyOptional({ example: 'Invalid username or password' })
  error_description?: string;
}
