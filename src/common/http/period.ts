import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateInRange, IsOptionalNotNull } from './dto-validators';

/** `?from=&to=` (ISO-8601) for lists over time; each route documents its defaults. */
export class PeriodRequest {
  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'From this time (inclusive)' })
  @IsOptionalNotNull() @Type(() => Date) @IsDateInRange()
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Until this time (exclusive; default: now)' })
  @IsOptionalNotNull() @Type(() => Date) @IsDateInRange()
  to?: Date;
}
