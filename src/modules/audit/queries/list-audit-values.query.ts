import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';

/** The distinct actions or resource types in the log, optionally of one user. */
export class ListAuditValuesQuery extends Query<string[]> {
  constructor(
    readonly column: 'action' | 'resource_type',
    readonly userId?: string,
  ) {
    super();
  }
}

@QueryHandler(ListAuditValuesQuery)
export class ListAuditValuesHandler implements IQueryHandler<ListAuditValuesQuery> {
  constructor(private readonly dataSource: DataSource) {}

  async execute({ column, userId }: ListAuditValuesQuery): Promise<string[]> {
    if (userId) {
      const rows: Array<{ value: string }> = await this.dataSource.query(
        `SELECT DISTINCT ${column} AS value FROM audit_logs WHERE user_id = $1 AND ${column} IS NOT NULL ORDER BY 1`,
        [userId],
      );
      return rows.map((r) => r.value);
    }
    // A loose index scan over the action index: one probe per distinct action
    // instead of reading every row. Each action belongs to one resource type, so
    // the resource types are those of one row per action.
    const actions = `WITH RECURSIVE a AS (
         (SELECT action FROM audit_logs ORDER BY action LIMIT 1)
         UNION ALL
         SELECT (SELECT action FROM audit_logs WHERE action > a.action ORDER BY action LIMIT 1) FROM a WHERE a.action IS NOT NULL
       )`;
    const rows: Array<{ value: string }> =
      column === 'action'
        ? await this.dataSource.query(`${actions} SELECT action AS value FROM a WHERE action IS NOT NULL`)
        : await this.dataSource.query(
            `${actions} SELECT DISTINCT t.resource_type AS value
               FROM a CROSS JOIN LATERAL (SELECT resource_type FROM audit_logs l WHERE l.action = a.action LIMIT 1) t
              WHERE a.action IS NOT NULL AND t.resource_type IS NOT NULL ORDER BY 1`,
          );
    return rows.map((r) => r.value);
  }
}
