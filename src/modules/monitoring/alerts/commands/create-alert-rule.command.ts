import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../../common/auth/ownership';
import { AppError } from '../../../../common/errors/app-error';
import { ErrorCode } from '../../../../common/errors/error-code';
import { uuidv7 } from '../../../../common/ids';
import { APP_CONFIG, AppConfig } from '../../../../config/app-config';
import { GetServerQuery } from '../../queries/get-server.query';
import { AlertRuleInput, AlertRuleRow, isSampleMetric, THRESHOLD_RANGES } from '../alert-rule';
import { AlertRuleRepository } from '../repositories/alert-rule.repository';

/** A rule's condition, as it will be stored (after a change's fields are laid over the stored ones). */
export interface RuleCondition {
  metric: string;
  operator: string | null;
  threshold: number | null;
}

/** The smallest threshold but 0 (samples' gauges are stored to 6 decimals; nothing finer means anything). */
export const MIN_THRESHOLD = 1e-6;

/**
 * What the DTOs cannot check field by field: a sample metric needs an
 * operator and a threshold in its range (0 or at least MIN_THRESHOLD),
 * server_offline takes neither.
 * 400 VALIDATION_ERROR naming the fields, like the DTOs' own errors.
 */
export function checkCondition({ metric, operator, threshold }: RuleCondition): void {
  const fields: Record<string, string[]> = {};
  if (isSampleMetric(metric)) {
    if (operator === null) fields.operator = [`operator is required for the metric ${metric}`];
    const range = THRESHOLD_RANGES[metric];
    if (threshold === null) fields.threshold = [`threshold is required for the metric ${metric}`];
    else if (threshold < range.min || threshold > range.max) fields.threshold = [`threshold must be between ${range.min} and ${range.max} for the metric ${metric}`];
    else if (threshold !== 0 && Math.abs(threshold) < MIN_THRESHOLD) fields.threshold = [`threshold must be 0 or at least ${MIN_THRESHOLD}`];
  } else {
    if (operator !== null) fields.operator = ['operator must be absent or null for the metric server_offline'];
    if (threshold !== null) fields.threshold = ['threshold must be absent or null for the metric server_offline'];
  }
  if (Object.keys(fields).length) throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields });
}

/** 404 unless the server exists and the actor may act on it (their own; an admin: any, the `local` server included). */
export async function checkServer(queries: QueryBus, actor: Actor, serverId: string): Promise<void> {
  await queries.execute(new GetServerQuery(serverId, actor));
}

/**
 * Creates an alert rule of the caller's; a server_id must name one of their
 * servers (else 404). A user (not an admin) may have at most
 * MONITOR_MAX_ALERT_RULES_PER_USER rules (403 FORBIDDEN, details {limit, rules}).
 */
export class CreateAlertRuleCommand extends Command<AlertRuleRow> {
  constructor(
    readonly actor: Actor,
    readonly input: AlertRuleInput,
  ) {
    super();
  }
}

@CommandHandler(CreateAlertRuleCommand)
export class CreateAlertRuleHandler implements ICommandHandler<CreateAlertRuleCommand> {
  constructor(
    private readonly rules: AlertRuleRepository,
    private readonly queries: QueryBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ actor, input }: CreateAlertRuleCommand): Promise<AlertRuleRow> {
    const condition = { metric: input.metric, operator: input.operator ?? null, threshold: input.threshold ?? null };
    checkCondition(condition);
    if (input.server_id) await checkServer(this.queries, actor, input.server_id);
    let row: Awaited<ReturnType<AlertRuleRepository['insert']>>;
    try {
      row = await this.rules.insert({
        id: uuidv7(),
        userId: actor.userId,
        name: input.name ?? null,
        metric: input.metric,
        operator: input.operator ?? null,
        threshold: input.threshold ?? null,
        durationS: input.duration_s ?? 0,
        serverId: input.server_id ?? null,
        enabled: input.enabled ?? true,
      }, actor.admin ? null : this.config.monitoring.maxAlertRulesPerUser);
    } catch (error) {
      // The server was deleted between the check and the insert.
      if ((error as { code?: string }).code === '23503') throw AppError.notFound('Server');
      throw error;
    }
    if (!('id' in row)) {
      throw new AppError(ErrorCode.FORBIDDEN, `You may have at most ${row.limit} alert rules; delete one to add another`, { limit: row.limit, rules: row.count });
    }
    return row;
  }
}
