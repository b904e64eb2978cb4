import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsString, Length } from 'class-validator';
import { IsDateInRange, IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { Pagination } from '../../../../common/http/pagination';
import { API_KEY_SCOPES, ApiKeyView } from '../../api-key.mapper';
import { ApiRequestExample } from '../../../../common/http/swagger';

@ApiRequestExample({ name: 'CI runner', scopes: ['execute'] })
export class CreateApiKeyRequest {
  @ApiProperty({ example: 'CI runner' }) @IsString() @Length(1, 100) name!: string;

  @ApiPropertyOptional({ enum: API_KEY_SCOPES, isArray: true, default: ['execute'] })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(API_KEY_SCOPES.length) @IsIn(API_KEY_SCOPES, { each: true })
  scopes?: string[];

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Never expires when omitted' })
  @IsOptionalNotNull() @Type(() => Date) @IsDateInRange()
  expires_at?: Date;
}

@ApiRequestExample({ enabled: false })
export class ToggleApiKeyRequest {
  @ApiPropertyOptional({ description: 'The state to set; omitted, the key flips' }) @IsOptionalNotNull() @IsBoolean() enabled?: boolean;
}

export class ApiKeyResponse implements ApiKeyView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'sk-AbCd…wXyZ', description: 'For recognising the key; not the key' }) prefix!: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes!: string[];
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expires_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_used_at!: string | null;
  @ApiProperty() usage_count!: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ description: 'The key itself. Shown this once; store it now.', example: 'sk-…' }) key!: string;
}

export class ApiKeyListResponse {
  @ApiProperty({ type: [ApiKeyResponse] }) api_keys!: ApiKeyResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}
