import { DataSource } from 'typeorm';
import { MaintenanceReport, PartitionMaintainer, monthStart } from '../../src/database/partitions';
import { TestApp } from '../support/test-app';

/**
 * The partition maintainer against a real database (cloned from the migrated
 * template: audit_logs has only its DEFAULT partition), driven by an explicit
 * clock so the tests can cross months and years. Each test gets its own app
 * and database, so partitions created by one cannot hide a bug in another.
 */

const KEEP_FOREVER = 100_000;
const utc = (iso: string) => new Date(iso);

let app: TestApp;
let db: DataSource;

beforeEach(async () => {
  app = await TestApp.start();
  db = app.running.app.get(DataSource);
});

afterEach(async () => {
  await app.stop();
});

function maintainer(retentionDays = KEEP_FOREVER, dataSource: DataSource = db): PartitionMaintainer {
  return new PartitionMaintainer(dataSource, [{ table: 'audit_logs', retentionDays }]);
}

/** The partitions attached to audit_logs, sorted. */
async function partitions(): Promise<string[]> {
  const rows: Array<{ name: string }> = await db.query(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'audit_logs'
      ORDER BY c.relname`,
  );
  return rows.map((r) => r.name);
}

/** Whether a table of that name exists at all (attached or not). */
async function tableExists(name: string): Promise<boolean> {
  const [{ exists }] = await db.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [name]);
  return exists as boolean;
}

async function insertAudit(createdAt: string, marker: string): Promise<string> {
  const [{ id }] = await db.query(
    `INSERT INTO audit_logs (created_at, action, status_code, method, path)
     VALUES ($1, 'test.partitions', 200, 'GET', $2) RETURNING id`,
    [createdAt, marker],
  );
  return id as string;
}

/** The partition that holds the row. */
async function partitionOf(id: string): Promise<string> {
  const [{ part }] = await db.query(`SELECT tableoid::regclass::text AS part FROM audit_logs WHERE id = $1`, [id]);
  return part as string;
}

async function countIn(relation: string, marker: string): Promise<number> {
  const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM ${relation} WHERE path = $1`, [marker]);
  return count as number;
}

const empty: MaintenanceReport = { created: [], dropped: [], moved_rows: 0, purged_default_rows: 0 };

describe('creating partitions', () => {
  it('starts from the DEFAULT partition alone', async () => {
    expect(await partitions()).toEqual(['audit_logs_default']);
  });

  it('creates the current and next two months, crossing into the next year', async () => {
    const report = await maintainer().maintain(utc('2026-12-15T10:00:00Z'));

    expect(report).toEqual({ ...empty, created: ['audit_logs_p202612', 'audit_logs_p202701', 'audit_logs_p202702'] });
    expect(await partitions()).toEqual(['audit_logs_default', 'audit_logs_p202612', 'audit_logs_p202701', 'audit_logs_p202702']);
  });

  it('gives each partition exactly its UTC month', async () => {
    await maintainer().maintain(utc('2026-12-15T10:00:00Z'));

    expect(await partitionOf(await insertAudit('2026-11-30T23:59:59.999Z', 'bounds'))).toBe('audit_logs_default');
    expect(await partitionOf(await insertAudit('2026-12-01T00:00:00.000Z', 'bounds'))).toBe('audit_logs_p202612');
    expect(await partitionOf(await insertAudit('2026-12-31T23:59:59.999Z', 'bounds'))).toBe('audit_logs_p202612');
    expect(await partitionOf(await insertAudit('2027-01-01T00:00:00.000Z', 'bounds'))).toBe('audit_logs_p202701');
    expect(await partitionOf(await insertAudit('2027-02-28T23:59:59.999Z', 'bounds'))).toBe('audit_logs_p202702');
    expect(await partitionOf(await insertAudit('2027-03-01T00:00:00.000Z', 'bounds'))).toBe('audit_logs_default');
  });

  it('is idempotent: a second run at the same time creates nothing', async () => {
    const clock = utc('2026-12-15T10:00:00Z');
    await maintainer().maintain(clock);
    const before = await partitions();

    expect(await maintainer().maintain(clock)).toEqual(empty);
    expect(await maintainer().maintain(utc('2026-12-31T23:59:59Z'))).toEqual(empty);
    expect(await partitions()).toEqual(before);
  });

  it('creates only the month that became due when the clock moves on', async () => {
    await maintainer().maintain(utc('2026-12-15T10:00:00Z'));

    const report = await maintainer().maintain(utc('2027-01-01T00:00:00Z'));

    expect(report).toEqual({ ...empty, created: ['audit_logs_p202703'] });
    expect(await partitions()).toEqual([
      'audit_logs_default',
      'audit_logs_p202612',
      'audit_logs_p202701',
      'audit_logs_p202702',
      'audit_logs_p202703',
    ]);
  });

  it('fills a gap of several months, creating only the months now due', async () => {
    await maintainer().maintain(utc('2026-12-15T10:00:00Z'));

    const report = await maintainer().maintain(utc('2027-06-02T00:00:00Z'));

    expect(report.created).toEqual(['audit_logs_p202706', 'audit_logs_p202707', 'audit_logs_p202708']);
    expect(report.dropped).toEqual([]);
  });
});

describe('the DEFAULT partition as a safety net', () => {
  it('takes an insert for a month without a partition', async () => {
    await maintainer().maintain(utc('2026-12-15T10:00:00Z'));

    const id = await insertAudit('2030-06-15T12:00:00Z', 'far-future');

    expect(await partitionOf(id)).toBe('audit_logs_default');
    expect(await countIn('audit_logs_default', 'far-future')).toBe(1);
    expect(await countIn('audit_logs', 'far-future')).toBe(1);
  });

  it('takes inserts before any monthly partition exists', async () => {
    const id = await insertAudit('2026-11-23T01:00:00Z', 'no-partitions');
    expect(await partitionOf(id)).toBe('audit_logs_default');
  });

  it('moves rows out of DEFAULT into the month when that month is created', async () => {
    const inApril = [
      await insertAudit('2031-04-01T00:00:00.000Z', 'moved'),
      await insertAudit('2031-04-15T08:30:00.000Z', 'moved'),
      await insertAudit('2031-04-30T23:59:59.999Z', 'moved'),
    ];
    const inJune = await insertAudit('2031-06-30T23:59:59.999Z', 'moved');
    const beforeApril = await insertAudit('2031-03-31T23:59:59.999Z', 'moved');
    const inJuly = await insertAudit('2031-07-01T00:00:00.000Z', 'moved');
    const allBefore: Array<Record<string, unknown>> = await db.query(
      `SELECT id, created_at, action, status_code, method, path FROM audit_logs WHERE path = 'moved' ORDER BY id`,
    );
    expect(await countIn('audit_logs_default', 'moved')).toBe(6);

    const report = await maintainer().maintain(utc('2031-04-20T00:00:00Z'));

    expect(report.created).toEqual(['audit_logs_p203104', 'audit_logs_p203105', 'audit_logs_p203106']);
    expect(report.moved_rows).toBe(4);
    expect(await countIn('audit_logs_p203104', 'moved')).toBe(3);
    expect(await countIn('audit_logs_p203105', 'moved')).toBe(0);
    expect(await countIn('audit_logs_p203106', 'moved')).toBe(1);
    expect(await countIn('audit_logs_default', 'moved')).toBe(2);
    const [{ count: aprilLeftInDefault }] = await db.query(
      `SELECT count(*)::int AS count FROM audit_logs_default WHERE created_at >= '2031-04-01T00:00:00Z' AND created_at < '2031-07-01T00:00:00Z'`,
    );
    expect(aprilLeftInDefault).toBe(0);
    for (const id of inApril) expect(await partitionOf(id)).toBe('audit_logs_p203104');
    expect(await partitionOf(inJune)).toBe('audit_logs_p203106');
    expect(await partitionOf(beforeApril)).toBe('audit_logs_default');
    expect(await partitionOf(inJuly)).toBe('audit_logs_default');

    // Nothing lost, nothing duplicated, nothing changed.
    const allAfter = await db.query(
      `SELECT id, created_at, action, status_code, method, path FROM audit_logs WHERE path = 'moved' ORDER BY id`,
    );
    expect(allAfter).toEqual(allBefore);

    // The new partition is a real, attached partition: new rows go there and the primary key holds.
    expect(await partitions()).toContain('audit_logs_p203104');
    expect(await partitionOf(await insertAudit('2031-04-21T00:00:00Z', 'after-move'))).toBe('audit_logs_p203104');
    const [moved] = allBefore.filter((row) => row.id === inApril[1]);
    await expect(
      db.query(`INSERT INTO audit_logs (id, created_at, action, status_code, method, path) VALUES ($1, $2, 'dup', 200, 'GET', 'dup')`, [
        moved.id,
        moved.created_at,
      ]),
    ).rejects.toMatchObject({ code: '23505' });

    // A second run has nothing left to move.
    expect(await maintainer().maintain(utc('2031-04-20T00:00:00Z'))).toEqual(empty);
  });
});

describe('retention', () => {
  it('drops partitions wholly older than the retention and keeps the rest', async () => {
    const oneYear = maintainer(365);
    await oneYear.maintain(utc('2026-12-15T10:00:00Z'));
    await insertAudit('2026-12-10T00:00:00Z', 'old');
    await insertAudit('2027-01-10T00:00:00Z', 'kept');

    // Dec 20 2027 minus 365 days is Dec 20 2026: December 2026 is only partly past retention.
    const later = await oneYear.maintain(utc('2027-12-20T00:00:00Z'));
    expect(later.created).toEqual(['audit_logs_p202712', 'audit_logs_p202801', 'audit_logs_p202802']);
    expect(later.dropped).toEqual([]);
    expect(await partitions()).toContain('audit_logs_p202612');

    // Jan 15 2028 minus 365 days is Jan 15 2027: all of December 2026 is past retention.
    const purged = await oneYear.purge(utc('2028-01-15T00:00:00Z'));
    expect(purged.dropped).toEqual(['audit_logs_p202612']);
    expect(purged.created).toEqual([]);
    expect(await tableExists('audit_logs_p202612')).toBe(false);
    expect(await countIn('audit_logs', 'old')).toBe(0);
    expect(await countIn('audit_logs', 'kept')).toBe(1);
    expect(await partitions()).toEqual([
      'audit_logs_default',
      'audit_logs_p202701',
      'audit_logs_p202702',
      'audit_logs_p202712',
      'audit_logs_p202801',
      'audit_logs_p202802',
    ]);

    // maintain drops as well: Mar 5 2028 minus 365 days is Mar 6 2027, past the end of February 2027.
    const maintained = await oneYear.maintain(utc('2028-03-05T00:00:00Z'));
    expect([...maintained.dropped].sort()).toEqual(['audit_logs_p202701', 'audit_logs_p202702']);
    expect(maintained.created).toEqual(['audit_logs_p202803', 'audit_logs_p202804', 'audit_logs_p202805']);
    expect(await tableExists('audit_logs_p202701')).toBe(false);
    expect(await tableExists('audit_logs_p202702')).toBe(false);
    expect(await countIn('audit_logs', 'kept')).toBe(0);
    expect(await partitions()).toEqual([
      'audit_logs_default',
      'audit_logs_p202712',
      'audit_logs_p202801',
      'audit_logs_p202802',
      'audit_logs_p202803',
      'audit_logs_p202804',
      'audit_logs_p202805',
    ]);

    // Dropping is idempotent too.
    expect((await oneYear.purge(utc('2028-03-05T00:00:00Z'))).dropped).toEqual([]);
  });

  it('uses the retention of the table: a longer one keeps what a shorter one drops', async () => {
    await maintainer().maintain(utc('2026-12-15T10:00:00Z'));

    expect((await maintainer(730).purge(utc('2028-06-01T00:00:00Z'))).dropped).toEqual([]);
    expect(await partitions()).toContain('audit_logs_p202612');

    expect([...(await maintainer(365).purge(utc('2028-06-01T00:00:00Z'))).dropped].sort()).toEqual([
      'audit_logs_p202612',
      'audit_logs_p202701',
      'audit_logs_p202702',
    ]);
  });

  it('never drops the DEFAULT partition', async () => {
    await maintainer(1).maintain(utc('2026-12-15T10:00:00Z'));
    await maintainer(1).purge(utc('2040-01-01T00:00:00Z'));

    expect(await partitions()).toEqual(['audit_logs_default']);
    expect(await partitionOf(await insertAudit('2026-12-20T00:00:00Z', 'still-works'))).toBe('audit_logs_default');
  });

  it('purge deletes expired rows from the DEFAULT partition and keeps the others', async () => {
    const now = utc('2028-01-15T00:00:00Z');
    const cutoff = '2027-01-15T00:00:00.000Z'; // now minus 365 days
    await insertAudit('2025-05-10T00:00:00Z', 'expired');
    await insertAudit('2025-05-11T00:00:00Z', 'expired');
    await insertAudit('2027-01-14T23:59:59.999Z', 'expired');
    const keptJustInside = await insertAudit('2027-01-15T00:00:00.001Z', 'inside');
    const keptFuture = await insertAudit('2030-01-01T00:00:00Z', 'inside');
    const [{ count: expiredInDefault }] = await db.query(
      `SELECT count(*)::int AS count FROM audit_logs_default WHERE created_at < $1`,
      [cutoff],
    );
    expect(expiredInDefault).toBeGreaterThanOrEqual(3);

    const report = await maintainer(365).purge(now);

    expect(report.purged_default_rows).toBe(expiredInDefault);
    expect(report.created).toEqual([]);
    expect(await countIn('audit_logs', 'expired')).toBe(0);
    expect(await countIn('audit_logs_default', 'inside')).toBe(2);
    expect(await partitionOf(keptJustInside)).toBe('audit_logs_default');
    expect(await partitionOf(keptFuture)).toBe('audit_logs_default');
    expect((await maintainer(365).purge(now)).purged_default_rows).toBe(0);
  });
});

describe('two maintainers at once', () => {
  it('both succeed on two connection pools and each partition is created and filled once', async () => {
    const other = new DataSource({ type: 'postgres', url: app.databaseUrl });
    await other.initialize();
    try {
      for (let i = 0; i < 5; i++) await insertAudit(`2032-0${1 + (i % 3)}-10T00:00:00Z`, 'race');
      const clock = utc('2032-01-20T00:00:00Z');

      const reports = await Promise.all([
        maintainer(KEEP_FOREVER, db).maintain(clock),
        maintainer(KEEP_FOREVER, other).maintain(clock),
        maintainer(KEEP_FOREVER, db).maintain(clock),
        maintainer(KEEP_FOREVER, other).maintain(clock),
      ]);

      const created = reports.flatMap((r) => r.created).sort();
      expect(created).toEqual(['audit_logs_p203201', 'audit_logs_p203202', 'audit_logs_p203203']);
      expect(reports.reduce((sum, r) => sum + r.moved_rows, 0)).toBe(5);
      expect(await partitions()).toEqual(['audit_logs_default', 'audit_logs_p203201', 'audit_logs_p203202', 'audit_logs_p203203']);
      expect(await countIn('audit_logs', 'race')).toBe(5);
      expect(await countIn('audit_logs_default', 'race')).toBe(0);
      expect(await countIn('audit_logs_p203201', 'race')).toBe(2);
      expect(await countIn('audit_logs_p203202', 'race')).toBe(2);
      expect(await countIn('audit_logs_p203203', 'race')).toBe(1);
    } finally {
      await other.destroy();
    }
  });

  it('a maintainer and a purger at once both succeed', async () => {
    const other = new DataSource({ type: 'postgres', url: app.databaseUrl });
    await other.initialize();
    try {
      await maintainer(365).maintain(utc('2026-12-15T10:00:00Z'));
      const clock = utc('2028-01-15T00:00:00Z');

      const [maintained, purged] = await Promise.all([
        maintainer(365, db).maintain(clock),
        maintainer(365, other).purge(clock),
      ]);

      expect([...maintained.dropped, ...purged.dropped]).toEqual(['audit_logs_p202612']);
      expect(maintained.created).toEqual(['audit_logs_p202801', 'audit_logs_p202802', 'audit_logs_p202803']);
      expect(await partitions()).toEqual([
        'audit_logs_default',
        'audit_logs_p202701',
        'audit_logs_p202702',
        'audit_logs_p202801',
        'audit_logs_p202802',
        'audit_logs_p202803',
      ]);
    } finally {
      await other.destroy();
    }
  });
});

describe('maintaining while rows are inserted', () => {
  it('creates a month while inserts for that month keep landing in DEFAULT: neither the maintainer nor any insert fails', async () => {
    const writer = new DataSource({ type: 'postgres', url: app.databaseUrl, extra: { max: 4 } });
    await writer.initialize();
    try {
      let month = utc('2033-01-01T00:00:00Z');
      let stop = false;
      let inserted = 0;
      const insertErrors: unknown[] = [];
      const insertLoop = async () => {
        while (!stop) {
          try {
            // Always in the month about to be created: DEFAULT until the maintainer creates it.
            await writer.query(
              `INSERT INTO audit_logs (created_at, action, status_code, method, path) VALUES ($1, 'test.partitions', 200, 'GET', 'busy')`,
              [new Date(month.getTime() + (inserted % 20) * 86_400_000)],
            );
            inserted += 1;
          } catch (error) {
            insertErrors.push(error);
          }
        }
      };
      const loops = [insertLoop(), insertLoop(), insertLoop(), insertLoop()];
      const failures: string[] = [];
      try {
        for (let i = 0; i < 6; i++) {
          month = monthStart(utc('2033-01-01T00:00:00Z'), 3 * i);
          const target = inserted + 40;
          while (inserted < target) await new Promise((resolve) => setTimeout(resolve, 2));
          try {
            await maintainer().maintain(month);
          } catch (error) {
            failures.push(`${month.toISOString()}: ${(error as Error).message}`);
          }
        }
      } finally {
        stop = true;
        await Promise.all(loops);
      }
      expect(insertErrors).toEqual([]);
      expect(failures).toEqual([]);
      expect(await countIn('audit_logs', 'busy')).toBe(inserted);
    } finally {
      await writer.destroy();
    }
  });
});
