import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryPrepared } from '../../../common/database/pg-pool';

export const SERVER_STATUSES = ['online', 'offline', 'unknown'] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number];

/** What a user may set on a server. */
export interface ServerFields {
  name: string;
  host: string;
  port: number;
  description: string | null;
  tags: string[];
  os: string | null;
  /** null: MONITOR_PROBE_INTERVAL_SECONDS. */
  probeIntervalSeconds: number | null;
}

/** One `servers` row (migration 1765800000000-Servers): what its user set, and what the platform keeps of it. */
export interface ServerRow extends ServerFields {
  id: string;
  /** null: the platform's own host (`local`), an admin's to see and manage. */
  userId: string | null;
  status: ServerStatus;
  monitored: boolean;
  latencyMs: number | null;
  checkedAt: Date | null;
  statusSince: Date | null;
  lastSeenAt: Date | null;
  isLocal: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A server a probe round connects to. */
export interface ProbeTarget {
  id: string;
  host: string;
  port: number;
  /** Whether any address may be probed: `local`, or an admin's server (a user's may not reach the platform's own network). */
  exempt: boolean;
}

/** What one probe saw. `checkedAt` is when it started connecting. */
export interface ProbeResult {
  id: string;
  status: 'online' | 'offline';
  latencyMs: number | null;
  checkedAt: Date;
}

/** A server whose status a probe round changed. */
export interface StatusChange {
  id: string;
  userId: string | null;
  name: string;
  previous: ServerStatus;
  status: 'online' | 'offline';
  latencyMs: number | null;
  checkedAt: Date;
  statusSince: Date;
}

export interface ServerCounts {
  total: number;
  online: number;
  offline: number;
}

const COLUMNS = `id, user_id AS "userId", name, host, port, description, tags, os, status, monitored,
  probe_interval_seconds AS "probeIntervalSeconds", latency_ms AS "latencyMs", checked_at AS "checkedAt",
  status_since AS "statusSince", last_seen_at AS "lastSeenAt", is_local AS "isLocal", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * A probe tick may start a little after the minute while the previous probe
 * started a little after the previous one: a server is due when its last probe
 * started at most this long short of its interval ago.
 */
const DUE_SLACK_SECONDS = 5;

/** `servers`: every statement of it. Ownership is the callers'. */
@Injectable()
export class ServerRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A new server of the user's. With `limit` (a user's cap; null: none, an
   * admin's), the user's servers are counted under a per-owner advisory lock
   * held to the commit, so two creates at once cannot both pass the last
   * slot: answers `{ limit, count }` instead of a row when the cap is reached.
   */
  async create(id: string, userId: string, fields: ServerFields, monitored: boolean, limit: number | null): Promise<ServerRow | { limit: number; count: number }> {
    return this.dataSource.transaction(async (manager) => {
      if (limit !== null) {
        await manager.query(`SELECT pg_advisory_xact_lock(hashtext('servers:' || $1))`, [userId]);
        const [{ count }]: Array<{ count: number }> = await manager.query(`SELECT count(*)::int AS count FROM servers WHERE user_id = $1`, [userId]);
        if (count >= limit) return { limit, count };
      }
      const rows: ServerRow[] = await manager.query(
        `INSERT INTO servers (id, user_id, name, host, port, description, tags, os, probe_interval_seconds, monitored)
         VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8, $9, $10) RETURNING ${COLUMNS}`,
        [id, userId, fields.name, fields.host, fields.port, fields.description, fields.tags, fields.os, fields.probeIntervalSeconds, monitored],
      );
      return rows[0];
    });
  }

  async findById(id: string): Promise<ServerRow | null> {
    const rows: ServerRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM servers WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /**
   * Whether a server exists and whose it is (null: `local`): the check every
   * agent push makes, as a prepared statement (planned once per connection).
   */
  async ownerOf(id: string): Promise<{ userId: string | null } | undefined> {
    const rows = await queryPrepared<{ userId: string | null }>(this.dataSource, 'servers.owner_of', 'SELECT user_id AS "userId" FROM servers WHERE id = $1', [id]);
    return rows[0];
  }

  /** A user's servers, with the platform's own (`local`) for an admin; newest first. */
  async list(userId: string, withLocal: boolean, page: { page: number; limit: number }): Promise<{ rows: ServerRow[]; total: number }> {
    const where = `(user_id = $1 OR ($2 AND is_local))`;
    const [rows, counted]: [ServerRow[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(`SELECT ${COLUMNS} FROM servers WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`, [
        userId, withLocal, page.limit, (page.page - 1) * page.limit,
      ]),
      this.dataSource.query(`SELECT count(*)::int AS total FROM servers WHERE ${where}`, [userId, withLocal]),
    ]);
    return { rows, total: counted[0].total };
  }

  /**
   * Sets the given fields (the others stay); null when the server is gone. A
   * new host or port forgets what the probes saw of the old one (status
   * unknown, checked_at, latency and status_since cleared): the next round
   * probes it at once.
   */
  async update(id: string, changes: Partial<ServerFields>): Promise<ServerRow | null> {
    const columns: Record<keyof ServerFields, string> = {
      name: 'name', host: 'host', port: 'port', description: 'description', tags: 'tags', os: 'os', probeIntervalSeconds: 'probe_interval_seconds',
    };
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [key, column] of Object.entries(columns) as Array<[keyof ServerFields, string]>) {
      if (changes[key] === undefined) continue;
      values.push(changes[key]);
      sets.push(`${column} = $${values.length}${key === 'tags' ? '::text[]' : ''}`);
    }
    if (changes.host !== undefined || changes.port !== undefined) {
      const moved: string[] = [];
      if (changes.host !== undefined) moved.push(`host IS DISTINCT FROM $${values.push(changes.host)}::varchar`);
      if (changes.port !== undefined) moved.push(`port IS DISTINCT FROM $${values.push(changes.port)}::int`);
      const when = moved.join(' OR ');
      sets.push(
        `status = CASE WHEN ${when} THEN 'unknown' ELSE status END`,
        `checked_at = CASE WHEN ${when} THEN NULL ELSE checked_at END`,
        `latency_ms = CASE WHEN ${when} THEN NULL ELSE latency_ms END`,
        `status_since = CASE WHEN ${when} THEN NULL ELSE status_since END`,
      );
    }
    const [rows]: [ServerRow[], number] = await this.dataSource.query(
      `UPDATE servers SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
      values,
    );
    return rows[0] ?? null;
  }

  /** Removes a server and its samples; false when it was gone already. */
  async delete(id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [, deleted] = (await manager.query(`DELETE FROM servers WHERE id = $1`, [id])) as [unknown, number];
      await manager.query(`DELETE FROM server_metrics WHERE server_id = $1`, [id]);
      return deleted > 0;
    });
  }

  /**
   * Starts or stops probing. Stopping forgets the status (unknown from now:
   * nobody looks any more); starting keeps it until the next probe, which is
   * due at once.
   */
  async setMonitored(id: string, monitored: boolean): Promise<ServerRow | null> {
    const [rows]: [ServerRow[], number] = await this.dataSource.query(
      `UPDATE servers SET monitored = $2, updated_at = now(),
              status = CASE WHEN $2 THEN status ELSE 'unknown' END,
              status_since = CASE WHEN $2 OR status = 'unknown' THEN status_since ELSE now() END,
              checked_at = CASE WHEN $2 AND NOT monitored THEN NULL ELSE checked_at END
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, monitored],
    );
    return rows[0] ?? null;
  }

  /**
   * The monitored servers to probe now: those never probed or whose interval
   * (their own, else `defaultSeconds`) has passed since their last probe
   * started; every monitored one with `all`.
   */
  async dueForProbe(now: Date, defaultSeconds: number, all: boolean): Promise<ProbeTarget[]> {
    return this.dataSource.query(
      `SELECT s.id, s.host, s.port, (s.is_local OR s.user_id IS NULL OR coalesce(u.role = 'admin', false)) AS exempt
         FROM servers s LEFT JOIN users u ON u.id = s.user_id
        WHERE s.monitored
          AND ($3 OR s.checked_at IS NULL
               OR s.checked_at <= $1::timestamptz - make_interval(secs => coalesce(s.probe_interval_seconds, $2)::float8 - ${DUE_SLACK_SECONDS}))
        ORDER BY s.checked_at NULLS FIRST`,
      [now, defaultSeconds, all],
    );
  }

  /**
   * Stores a round's results in one statement and answers the servers whose
   * status changed (the previous status read under the rows' locks, taken in
   * id order as pushes take them, so two rounds at once could not both report
   * one change, and a round and a push never deadlock). A server deleted or
   * unmonitored meanwhile is left alone.
   */
  async recordProbes(results: ProbeResult[]): Promise<StatusChange[]> {
    if (!results.length) return [];
    const [rows]: [StatusChange[], number] = await this.dataSource.query(
      `WITH result AS (
         SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::real[], $4::timestamptz[]) AS r(id, status, latency_ms, checked_at)
       ), previous AS (
         SELECT s.id, s.status FROM servers s JOIN result USING (id) WHERE s.monitored ORDER BY s.id FOR UPDATE OF s
       )
       UPDATE servers s
          SET status = r.status, latency_ms = r.latency_ms, checked_at = r.checked_at,
              status_since = CASE WHEN s.status = r.status AND s.status_since IS NOT NULL THEN s.status_since ELSE r.checked_at END
         FROM result r JOIN previous p USING (id)
        WHERE s.id = r.id
        RETURNING s.id, s.user_id AS "userId", s.name, p.status AS previous, s.status, s.latency_ms AS "latencyMs",
                  s.checked_at AS "checkedAt", s.status_since AS "statusSince"`,
      [results.map((r) => r.id), results.map((r) => r.status), results.map((r) => r.latencyMs), results.map((r) => r.checkedAt)],
    );
    return rows.filter((row) => row.previous !== row.status);
  }

  /**
   * The platform's own host as server `local`, created once (whatever the
   * number of replicas starting at once: the unique partial index on
   * is_local); later starts refresh its os. Answers its id.
   */
  async ensureLocal(fields: Pick<ServerFields, 'host' | 'port' | 'os'> & { id: string }): Promise<string> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO servers (id, user_id, name, host, port, description, os, is_local)
       VALUES ($1, NULL, 'local', $2, $3, 'The host this platform runs on', $4, true)
       ON CONFLICT (is_local) WHERE is_local DO UPDATE SET os = EXCLUDED.os
       RETURNING id`,
      [fields.id, fields.host, fields.port, fields.os],
    );
    return rows[0].id;
  }

  /** A user's servers by status, with `local` for an admin. */
  async counts(userId: string, withLocal: boolean): Promise<ServerCounts> {
    const rows: ServerCounts[] = await this.dataSource.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'online')::int AS online, count(*) FILTER (WHERE status = 'offline')::int AS offline
         FROM servers WHERE user_id = $1 OR ($2 AND is_local)`,
      [userId, withLocal],
    );
    return rows[0];
  }
}
