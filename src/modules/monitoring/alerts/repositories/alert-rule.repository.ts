import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AlertResolution, AlertRuleRow } from '../alert-rule';

const RULE_COLUMNS = `id, user_id AS "userId", name, metric, operator, threshold, duration_s AS "durationS", server_id AS "serverId",
  enabled, created_at AS "createdAt", updated_at AS "updatedAt"`;

/** The columns a rule's change may set, by wire name. */
export interface AlertRuleChanges {
  name?: string | null;
  metric?: string;
  operator?: string | null;
  threshold?: number | null;
  duration_s?: number;
  server_id?: string | null;
  enabled?: boolean;
}

/**
 * `alert_rules` (migration 1765900000000-AlertRules; no entity): every
 * statement about rules. Writes that take an owner change nothing unless the rule still
 * belongs to that owner (the one the handler checked).
 */
@Injectable()
export class AlertRuleRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A new rule. With `limit` (a user's cap; null: none, an admin's), the
   * owner's rules are counted under a per-owner advisory lock held to the
   * commit (two creates at once cannot both take the last slot): answers
   * `{ limit, count }` instead of a row when the cap is reached.
   */
  async insert(rule: Omit<AlertRuleRow, 'createdAt' | 'updatedAt'>, limit: number | null): Promise<AlertRuleRow | { limit: number; count: number }> {
    return this.dataSource.transaction(async (manager) => {
      if (limit !== null) {
        await manager.query(`SELECT pg_advisory_xact_lock(hashtext('alert_rules:' || $1))`, [rule.userId]);
        const [{ count }]: Array<{ count: number }> = await manager.query(`SELECT count(*)::int AS count FROM alert_rules WHERE user_id = $1`, [rule.userId]);
        if (count >= limit) return { limit, count };
      }
      const [row] = (await manager.query(
        `INSERT INTO alert_rules (id, user_id, name, metric, operator, threshold, duration_s, server_id, enabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${RULE_COLUMNS}`,
        [rule.id, rule.userId, rule.name, rule.metric, rule.operator, rule.threshold, rule.durationS, rule.serverId, rule.enabled],
      )) as AlertRuleRow[];
      return row;
    });
  }

  async findById(id: string): Promise<AlertRuleRow | undefined> {
    const rows: AlertRuleRow[] = await this.dataSource.query(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1`, [id]);
    return rows[0];
  }

  /** One page of a user's rules, newest first, and how many they have. */
  async listNewestFirst(userId: string, page: { page: number; limit: number }): Promise<{ rows: AlertRuleRow[]; total: number }> {
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
        [userId, page.limit, (page.page - 1) * page.limit],
      ) as Promise<AlertRuleRow[]>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM alert_rules WHERE user_id = $1`, [userId]) as Promise<Array<{ total: number }>>,
    ]);
    return { rows, total };
  }

  /**
   * Changes the rule if it still belongs to `ownerId`, and resolves its open
   * alerts with `resolveOpen` when given (in the same transaction). Undefined
   * when the rule is gone (a concurrent delete won).
   */
  async updateOwned(id: string, ownerId: string, changes: AlertRuleChanges, resolveOpen: AlertResolution | null): Promise<AlertRuleRow | undefined> {
    const columns: Record<keyof AlertRuleChanges, string> = {
      name: 'name', metric: 'metric', operator: 'operator', threshold: 'threshold', duration_s: 'duration_s', server_id: 'server_id', enabled: 'enabled',
    };
    const sets = ['updated_at = now()'];
    const params: unknown[] = [id, ownerId];
    for (const [field, column] of Object.entries(columns) as Array<[keyof AlertRuleChanges, string]>) {
      if (changes[field] === undefined) continue;
      params.push(changes[field]);
      sets.push(`${column} = $${params.length}`);
    }
    return this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `UPDATE alert_rules SET ${sets.join(', ')} WHERE id = $1 AND user_id = $2 RETURNING ${RULE_COLUMNS}`,
        params,
      )) as [AlertRuleRow[], number];
      const row = rows[0][0];
      if (row && resolveOpen) await this.resolveOpen(manager, id, resolveOpen);
      return row;
    });
  }

  /** Resolves the rule's open alerts (rule_deleted) and deletes it, if it still belongs to `ownerId`; its alerts stay as history. */
  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const locked: unknown[] = await manager.query(`SELECT 1 FROM alert_rules WHERE id = $1 AND user_id = $2 FOR UPDATE`, [id, ownerId]);
      if (!locked.length) return false;
      await this.resolveOpen(manager, id, 'rule_deleted');
      await manager.query(`DELETE FROM alert_rules WHERE id = $1`, [id]);
      return true;
    });
  }

  private async resolveOpen(manager: EntityManager, ruleId: string, resolution: AlertResolution): Promise<void> {
    await manager.query(`UPDATE alerts SET status = 'resolved', resolved_at = now(), resolution = $2 WHERE rule_id = $1 AND status = 'open'`, [ruleId, resolution]);
  }
}
