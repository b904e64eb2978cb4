import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * One page of a list query, newest first, and how many rows match in all. Ties
 * on the time are broken by id, so a row never shows on two pages (or none).
 */
export async function newestFirstPage<T extends ObjectLiteral>(
  query: SelectQueryBuilder<T>,
  order: { createdAt: string; id: string },
  page: { page: number; limit: number },
): Promise<{ rows: T[]; total: number }> {
  const [rows, total] = await query
    .orderBy(order.createdAt, 'DESC')
    .addOrderBy(order.id, 'DESC')
    .skip((page.page - 1) * page.limit)
    .take(page.limit)
    .getManyAndCount();
  return { rows, total };
}
