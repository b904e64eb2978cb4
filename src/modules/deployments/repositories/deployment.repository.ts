import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { ManifestEntry } from '../version-files';
import type { DeploymentStatus } from '../deployment-state';
import type { RunSpec, Runtime } from '../app-files';

export interface DeploymentRow {
  id: string;
  userId: string;
  name: string;
  runtime: Runtime;
  status: DeploymentStatus;
  desiredState: 'running' | 'stopped';
  currentVersion: number;
  error: string | null;
  startedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A user's deployments as their plan's limits count them. */
export interface OwnerCounts {
  /** Created this UTC day (and not deleted). */
  today: number;
  /** That should be running and are not failed (a failed one holds nothing). */
  running: number;
}

/** A version's config as stored: what it runs, and whether the proxy asks for the owner's token. */
export interface VersionConfig extends RunSpec {
  private: boolean;
  /** The names of its variables (their values are sealed apart). */
  env_names: string[];
}

export interface VersionRow {
  deploymentId: string;
  versionNumber: number;
  files: ManifestEntry[];
  config: VersionConfig;
  envVarsSealed: string | null;
  createdAt: Date;
}

const DEPLOYMENT_COLUMNS = `id, user_id AS "userId", name, runtime, status, desired_state AS "desiredState", current_version AS "currentVersion",
  error, started_at AS "startedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;
const VERSION_COLUMNS = `deployment_id AS "deploymentId", version_number AS "versionNumber", files, config, env_vars_sealed AS "envVarsSealed", created_at AS "createdAt"`;

/** `deployments` and `deployment_versions` (migration 1765500000000-Deployments). Ownership is the callers'. */
@Injectable()
export class DeploymentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A new deployment and its first version, together — once `allowed` has
   * seen the owner's counts under a lock of theirs (so two creations at once
   * are counted one after the other); `allowed` throws to refuse.
   */
  async create(
    row: Pick<DeploymentRow, 'id' | 'userId' | 'name' | 'runtime'>,
    version: Omit<VersionRow, 'deploymentId' | 'versionNumber' | 'createdAt'>,
    allowed: (counts: OwnerCounts) => void,
    within: (manager: EntityManager) => Promise<void>,
  ): Promise<DeploymentRow> {
    return this.dataSource.transaction(async (manager) => {
      allowed(await this.countsOf(manager, row.userId));
      await within(manager);
      const rows: DeploymentRow[] = await manager.query(
        `INSERT INTO deployments (id, user_id, name, runtime, status) VALUES ($1, $2, $3, $4, 'pending') RETURNING ${DEPLOYMENT_COLUMNS}`,
        [row.id, row.userId, row.name, row.runtime],
      );
      await manager.query(
        `INSERT INTO deployment_versions (deployment_id, version_number, files, config, env_vars_sealed) VALUES ($1, 1, $2, $3, $4)`,
        [row.id, JSON.stringify(version.files), JSON.stringify(version.config), version.envVarsSealed],
      );
      return rows[0];
    });
  }

  /** Marks a deployment as one that should run, once `allowed` has seen the owner's counts (under their lock). */
  async wantRunning(id: string, userId: string, allowed: (counts: OwnerCounts) => void): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      allowed(await this.countsOf(manager, userId, id));
      await manager.query(`UPDATE deployments SET desired_state = 'running', updated_at = now() WHERE id = $1`, [id]);
    });
  }

  /** The owner's deployments created this UTC day and those that should be running (but `except`), under a per-owner lock. */
  private async countsOf(manager: EntityManager, userId: string, except?: string): Promise<OwnerCounts> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('deployments:' || $1))`, [userId]);
    const rows: Array<{ today: number; running: number }> = await manager.query(
      `SELECT count(*) FILTER (WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::int AS today,
              count(*) FILTER (WHERE desired_state = 'running' AND status NOT IN ('failed', 'stopped') AND id IS DISTINCT FROM $2)::int AS running
         FROM deployments WHERE user_id = $1`,
      [userId, except ?? null],
    );
    return rows[0];
  }

  async findById(id: string): Promise<DeploymentRow | null> {
    const rows: DeploymentRow[] = await this.dataSource.query(`SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** A user's deployments (or everyone's: userId null), newest first, optionally of one status. */
  async list(userId: string | null, status: DeploymentStatus | undefined, page: { page: number; limit: number }): Promise<{ rows: DeploymentRow[]; total: number }> {
    const where = ['($1::uuid IS NULL OR user_id = $1)', '($2::text IS NULL OR status = $2)'].join(' AND ');
    const [rows, counted]: [DeploymentRow[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(`SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`, [
        userId, status ?? null, page.limit, (page.page - 1) * page.limit,
      ]),
      this.dataSource.query(`SELECT count(*)::int AS total FROM deployments WHERE ${where}`, [userId, status ?? null]),
    ]);
    return { rows, total: counted[0].total };
  }

  /** Moves the status (and its error: null clears it); started_at is set when it becomes running. */
  async setStatus(id: string, status: DeploymentStatus, error: string | null): Promise<DeploymentRow | null> {
    // An UPDATE … RETURNING answers [rows, count] through DataSource.query.
    const [rows]: [DeploymentRow[], number] = await this.dataSource.query(
      `UPDATE deployments SET status = $2::varchar, error = $3, updated_at = now(),
              started_at = CASE WHEN $2::varchar = 'running' THEN now() ELSE started_at END
        WHERE id = $1 RETURNING ${DEPLOYMENT_COLUMNS}`,
      [id, status, error],
    );
    return rows[0] ?? null;
  }

  /**
   * Adds the next version (one more than the newest) and answers its number;
   * the deployment's row is locked meanwhile, so two at once get two numbers.
   * Null when the deployment is gone.
   */
  async addVersion(
    deploymentId: string,
    version: Omit<VersionRow, 'deploymentId' | 'versionNumber' | 'createdAt'>,
    within: (manager: EntityManager) => Promise<void>,
  ): Promise<number | null> {
    return this.dataSource.transaction(async (manager) => {
      const locked: Array<{ id: string }> = await manager.query(`SELECT id FROM deployments WHERE id = $1 FOR UPDATE`, [deploymentId]);
      if (locked.length === 0) return null;
      await within(manager);
      const rows: Array<{ next: number }> = await manager.query(
        `INSERT INTO deployment_versions (deployment_id, version_number, files, config, env_vars_sealed)
         SELECT $1, coalesce(max(version_number), 0) + 1, $2, $3, $4 FROM deployment_versions WHERE deployment_id = $1
         RETURNING version_number AS next`,
        [deploymentId, JSON.stringify(version.files), JSON.stringify(version.config), version.envVarsSealed],
      );
      return rows[0].next;
    });
  }

  async setCurrentVersion(id: string, versionNumber: number): Promise<void> {
    await this.dataSource.query(`UPDATE deployments SET current_version = $2, updated_at = now() WHERE id = $1`, [id, versionNumber]);
  }

  /** Records an error without a status change (a new version that failed while the old one serves on). */
  async setError(id: string, error: string | null): Promise<void> {
    await this.dataSource.query(`UPDATE deployments SET error = $2, updated_at = now() WHERE id = $1`, [id, error]);
  }

  async rename(id: string, name: string): Promise<void> {
    await this.dataSource.query(`UPDATE deployments SET name = $2, updated_at = now() WHERE id = $1`, [id, name]);
  }

  async setDesiredState(id: string, desired: 'running' | 'stopped'): Promise<void> {
    await this.dataSource.query(`UPDATE deployments SET desired_state = $2, updated_at = now() WHERE id = $1`, [id, desired]);
  }

  /** The deployments that should be running (brought back when the platform starts). */
  async listDesiredRunning(): Promise<DeploymentRow[]> {
    return this.dataSource.query(`SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE desired_state = 'running' ORDER BY created_at`);
  }

  /** Of these ids, those of deployments that exist. */
  async existing(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: Array<{ id: string }> = await this.dataSource.query(`SELECT id FROM deployments WHERE id = ANY($1::uuid[])`, [ids]);
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Deletes a deployment with its versions; `within` runs first in the same
   * transaction with every version's files (to let go of them), the
   * deployment's row locked so no version is added meanwhile. Its answer is
   * passed back; null when the deployment was gone.
   */
  async delete<T>(id: string, within: (manager: EntityManager, manifests: ManifestEntry[][]) => Promise<T>): Promise<T | null> {
    return this.dataSource.transaction(async (manager) => {
      const locked: Array<{ id: string }> = await manager.query(`SELECT id FROM deployments WHERE id = $1 FOR UPDATE`, [id]);
      if (locked.length === 0) return null;
      const versions: Array<{ files: ManifestEntry[] }> = await manager.query(`SELECT files FROM deployment_versions WHERE deployment_id = $1`, [id]);
      const answer = await within(manager, versions.map((version) => version.files));
      await manager.query(`DELETE FROM deployments WHERE id = $1`, [id]);
      return answer;
    });
  }

  async version(deploymentId: string, versionNumber: number): Promise<VersionRow | null> {
    const rows: VersionRow[] = await this.dataSource.query(`SELECT ${VERSION_COLUMNS} FROM deployment_versions WHERE deployment_id = $1 AND version_number = $2`, [
      deploymentId, versionNumber,
    ]);
    return rows[0] ?? null;
  }

  /** Every version, newest first. */
  async versions(deploymentId: string): Promise<VersionRow[]> {
    return this.dataSource.query(`SELECT ${VERSION_COLUMNS} FROM deployment_versions WHERE deployment_id = $1 ORDER BY version_number DESC`, [deploymentId]);
  }
}
