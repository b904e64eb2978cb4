import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A lease a replica renewed, with what its deployment should be doing now (the database says, whatever the cluster bus carried). */
export interface RenewedLease {
  deploymentId: string;
  desiredState: 'running' | 'stopped';
  status: string;
}

/** Who holds a deployment's lease, where that replica answers, and whether the lease is still in force. */
export interface LeaseHolder {
  replicaId: string;
  url: string;
  live: boolean;
}

/**
 * `deployment_leases` (migration 1766100000000-DeploymentLeases): which
 * replica runs which deployment. Every time is the database's (now()), so
 * replicas with clocks apart agree on when a lease lapses.
 */
@Injectable()
export class DeploymentLeaseRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Takes (or keeps) a deployment's lease for `replicaId` for `ttlMs`: when
   * nobody holds it, its holder's lease has lapsed, or it is this replica's
   * already. Whether this replica holds it now; false for a deployment that
   * does not exist.
   */
  async acquire(deploymentId: string, replicaId: string, url: string, ttlMs: number): Promise<boolean> {
    try {
      const rows: unknown[] = await this.dataSource.query(
        `INSERT INTO deployment_leases (deployment_id, replica_id, replica_url, expires_at)
         SELECT id, $2, $3, now() + $4 * interval '1 millisecond' FROM deployments WHERE id = $1
         ON CONFLICT (deployment_id) DO UPDATE
           SET replica_id = EXCLUDED.replica_id, replica_url = EXCLUDED.replica_url, expires_at = EXCLUDED.expires_at,
               acquired_at = CASE WHEN deployment_leases.replica_id = EXCLUDED.replica_id THEN deployment_leases.acquired_at ELSE now() END
           WHERE deployment_leases.replica_id = EXCLUDED.replica_id OR deployment_leases.expires_at < now()
         RETURNING deployment_id`,
        [deploymentId, replicaId, url, ttlMs],
      );
      return rows.length > 0;
    } catch (error) {
      // The deployment was deleted between the SELECT and the INSERT.
      if ((error as { code?: string }).code === '23503') return false;
      throw error;
    }
  }

  /**
   * Moves every lease of this replica on by `ttlMs` — a lapsed one too, if no
   * other replica took it meanwhile (nobody else runs it then): the
   * deployments it still holds, with their desired state and status (one it
   * lost to another replica is not among them).
   */
  async renew(replicaId: string, url: string, ttlMs: number): Promise<RenewedLease[]> {
    const [rows]: [RenewedLease[], number] = await this.dataSource.query(
      `UPDATE deployment_leases l SET expires_at = now() + $3 * interval '1 millisecond', replica_url = $2
       FROM deployments d WHERE l.replica_id = $1 AND d.id = l.deployment_id
       RETURNING l.deployment_id AS "deploymentId", d.desired_state AS "desiredState", d.status`,
      [replicaId, url, ttlMs],
    );
    return rows;
  }

  /** Lets go of one deployment (it stopped here), if this replica holds it. */
  async release(deploymentId: string, replicaId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM deployment_leases WHERE deployment_id = $1 AND replica_id = $2`, [deploymentId, replicaId]);
  }

  /**
   * Lets go of all of this replica's deployments (it is shutting down, or it
   * could not renew them in time): their leases lapse now, so that the others
   * take them over at once.
   */
  async releaseAll(replicaId: string): Promise<void> {
    await this.dataSource.query(`UPDATE deployment_leases SET expires_at = now() - interval '1 millisecond' WHERE replica_id = $1`, [replicaId]);
  }

  async holder(deploymentId: string): Promise<LeaseHolder | null> {
    const rows: LeaseHolder[] = await this.dataSource.query(
      `SELECT replica_id AS "replicaId", replica_url AS url, expires_at > now() AS live FROM deployment_leases WHERE deployment_id = $1`,
      [deploymentId],
    );
    return rows[0] ?? null;
  }

  /**
   * Deployments that should run (and have not failed) but nobody runs: their
   * lease lapsed, or none was taken and the deployment has not changed for
   * `graceMs` (a replica creating or starting one takes its lease within
   * moments; it is not taken from under it).
   */
  async unheld(graceMs: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT d.id FROM deployments d LEFT JOIN deployment_leases l ON l.deployment_id = d.id
       WHERE d.desired_state = 'running' AND d.status <> 'failed'
         AND (l.expires_at < now() OR (l.deployment_id IS NULL AND d.updated_at < now() - $1 * interval '1 millisecond'))
       ORDER BY d.created_at`,
      [graceMs],
    );
    return rows.map((row) => row.id);
  }

  /** Deletes all of this replica's leases (it stopped its apps without the database): nothing of them is its own any more. */
  async deleteAll(replicaId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM deployment_leases WHERE replica_id = $1`, [replicaId]);
  }

  /** Deployments whose lease another replica holds now (they run there). */
  async heldElsewhere(replicaId: string): Promise<Set<string>> {
    const rows: Array<{ deployment_id: string }> = await this.dataSource.query(
      `SELECT deployment_id FROM deployment_leases WHERE replica_id <> $1 AND expires_at > now()`,
      [replicaId],
    );
    return new Set(rows.map((row) => row.deployment_id));
  }

  /**
   * Deployments asked to stop whose stop never finished (the replica running
   * them went away first) and that no replica holds: nothing of them runs, so
   * they are recorded as stopped.
   */
  async stranded(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT d.id FROM deployments d LEFT JOIN deployment_leases l ON l.deployment_id = d.id AND l.expires_at > now()
       WHERE d.desired_state = 'stopped' AND d.status NOT IN ('stopped', 'failed') AND l.deployment_id IS NULL`,
    );
    return rows.map((row) => row.id);
  }
}
