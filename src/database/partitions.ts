import { DataSource, EntityManager } from 'typeorm';

/** A table partitioned by month on created_at (or `timeColumn`), with a DEFAULT partition `<table>_default`. */
export interface PartitionedTable {
  table: string;
  retentionDays: number;
  /** The partition key's column; `created_at` when not given. */
  timeColumn?: string;
}

export interface MaintenanceReport {
  created: string[];
  dropped: string[];
  moved_rows: number;
  purged_default_rows: number;
}

const MONTHS_AHEAD = 2;
const PARTITION_NAME = /_p(\d{4})(\d{2})$/;

/** First instant of the month `offset` months after the month holding `date`, in UTC. */
export function monthStart(date: Date, offset = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
}

export function partitionName(table: string, month: Date): string {
  return `${table}_p${month.getUTCFullYear()}${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The month a partition covers, from its name; undefined for others (the DEFAULT). */
export function partitionMonth(name: string): Date | undefined {
  const match = PARTITION_NAME.exec(name);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)) : undefined;
}

/** Whether the whole month ends before the retention cut-off. */
export function isExpired(month: Date, now: Date, retentionDays: number): boolean {
  return monthStart(month, 1).getTime() <= now.getTime() - retentionDays * 86_400_000;
}

/**
 * Keeps every registered monthly-partitioned table healthy: the current and next
 * two months exist, months wholly past retention are detached and dropped, and
 * rows that landed in the DEFAULT partition are moved into their month before
 * it is created (PostgreSQL refuses a partition that overlaps DEFAULT rows).
 * Each table is handled in one transaction under an advisory lock, so two
 * replicas running this at once simply take turns, and a failure leaves nothing
 * half-done. The clock is a parameter so tests can cross months and years.
 */
export class PartitionMaintainer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tables: PartitionedTable[],
  ) {}

  async maintain(now: Date = new Date()): Promise<MaintenanceReport> {
    const report: MaintenanceReport = { created: [], dropped: [], moved_rows: 0, purged_default_rows: 0 };
    for (const table of this.tables) {
      await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`partitions:${table.table}`]);
        const existing = await this.partitionsOf(manager, table.table);
        const missing = [];
        for (let offset = 0; offset <= MONTHS_AHEAD; offset++) {
          const month = monthStart(now, offset);
          if (!existing.includes(partitionName(table.table, month))) missing.push(month);
        }
        if (missing.length > 0) {
          // Inserts wait (they are not refused) while a month is carved out of
          // DEFAULT: a row landing there in between would make PostgreSQL reject
          // the new partition. Locking the parent first keeps the lock order the
          // same as an insert's, so the two cannot deadlock.
          await manager.query(`LOCK TABLE ${table.table} IN SHARE ROW EXCLUSIVE MODE`);
        }
        for (const month of missing) {
          const name = partitionName(table.table, month);
          report.moved_rows += await this.createPartition(manager, table.table, table.timeColumn ?? 'created_at', name, month);
          report.created.push(name);
        }
        report.dropped.push(...(await this.dropExpired(manager, table, existing, now)));
      });
    }
    return report;
  }

  /** Drops expired partitions and deletes expired rows left in the DEFAULT partitions. */
  async purge(now: Date = new Date()): Promise<MaintenanceReport> {
    const report: MaintenanceReport = { created: [], dropped: [], moved_rows: 0, purged_default_rows: 0 };
    for (const table of this.tables) {
      await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`partitions:${table.table}`]);
        report.dropped.push(...(await this.dropExpired(manager, table, await this.partitionsOf(manager, table.table), now)));
        const cutoff = new Date(now.getTime() - table.retentionDays * 86_400_000);
        const column = table.timeColumn ?? 'created_at';
        const [, deleted] = (await manager.query(`DELETE FROM ${table.table}_default WHERE ${column} < $1`, [cutoff])) as [unknown, number];
        report.purged_default_rows += deleted;
      });
    }
    return report;
  }

  private async partitionsOf(manager: EntityManager, table: string): Promise<string[]> {
    const rows: Array<{ name: string }> = await manager.query(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = $1`,
      [table],
    );
    return rows.map((r) => r.name);
  }

  /** Returns how many rows were moved out of the DEFAULT partition. */
  private async createPartition(manager: EntityManager, table: string, column: string, name: string, month: Date): Promise<number> {
    const from = month.toISOString();
    const to = monthStart(month, 1).toISOString();
    const [{ count }] = (await manager.query(
      `SELECT count(*)::int AS count FROM ${table}_default WHERE ${column} >= $1 AND ${column} < $2`,
      [from, to],
    )) as Array<{ count: number }>;
    if (count === 0) {
      await manager.query(`CREATE TABLE ${name} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
      return 0;
    }
    await manager.query(`CREATE TABLE ${name} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await manager.query(
      `WITH moved AS (DELETE FROM ${table}_default WHERE ${column} >= $1 AND ${column} < $2 RETURNING *)
       INSERT INTO ${name} SELECT * FROM moved`,
      [from, to],
    );
    await manager.query(`ALTER TABLE ${table} ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
    return count;
  }

  private async dropExpired(manager: EntityManager, table: PartitionedTable, partitions: string[], now: Date): Promise<string[]> {
    const dropped: string[] = [];
    for (const name of partitions) {
      const month = partitionMonth(name);
      if (!month || !isExpired(month, now, table.retentionDays)) continue;
      await manager.query(`ALTER TABLE ${table.table} DETACH PARTITION ${name}`);
      await manager.query(`DROP TABLE ${name}`);
      dropped.push(name);
    }
    return dropped;
  }
}
