import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { IsOptionalNotNull } from './dto-validators';

/**
 * Pages past this one are refused (400): the offset, (page - 1) * limit, then
 * stays far inside PostgreSQL's range (a larger one fails the query), and no
 * list of this API is that long.
 */
export const MAX_PAGE = 1_000_000;
const MAX_LIMIT = 100;

/** `?page=1&limit=20`, limit at most 100 (every list of openapi.json). Every list query extends it. */
export class PageQuery {
  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: MAX_PAGE })
  @IsOptionalNotNull()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page: number = 1;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: MAX_LIMIT })
  @IsOptionalNotNull()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit: number = 20;
}

export class Pagination {
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() pages!: number;
}

export function pagination(total: number, query: Pick<PageQuery, 'page' | 'limit'>): Pagination {
  return { total, page: query.page, limit: query.limit, pages: Math.ceil(total / query.limit) };
}
