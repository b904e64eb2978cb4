import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional } from 'class-validator';

/** `?from=&to=` (ISO-8601) for lists over time; each route documents its defaults. */
export class PeriodRequest {
  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'From this time (inclusive)' })
  @IsOptional() @Type(() => Date) @IsDate()
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Until this time (exclusive; default: now)' })
  @IsOptional() @Type(() => Date) @IsDate()
  to?: Date;
}
