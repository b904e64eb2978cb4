import { ApiProperty } from '@nestjs/swagger';

class ErrorBody {
  @ApiProperty({ example: 'VALIDATION_ERROR' })
  code!: string;

  @ApiProperty({ example: 'Request validation failed' })
  message!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { fields: { email: ['email must be an email'] } } })
  details!: Record<string, unknown>;

  @ApiProperty({ example: '5f0c6f7e-2a4b-4c1e-9d7a-1b2c3d4e5f60' })
  request_id!: string;
}

/** The SPEC §0 error envelope, for Swagger. */
export class ErrorResponse {
  @ApiProperty({ type: ErrorBody })
  error!: ErrorBody;
}
