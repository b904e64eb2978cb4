import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../../common/auth/ownership';
import { AppError } from '../../../../common/errors/app-error';
import { AlertResolution, AlertRuleInput, AlertRuleRow } from '../alert-rule';
import { AlertRuleChanges, AlertRuleRepository } from '../repositories/alert-rule.repository';
import { checkCondition, checkServer } from './create-alert-rule.command';

/**
 * Changes the fields given of one of the caller's rules (an admin: anyone's);
 * anyone else's answers 404. A change of what the rule watches (metric,
 * operator, threshold, duration_s, server_id) resolves its open alerts
 * (`rule_changed`), disabling it resolves them too (`rule_disabled`): the next
 * evaluation opens what the new definition says.
 */
export class UpdateAlertRuleCommand extends Command<AlertRuleRow> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly changes: Partial<AlertRuleInput>,
  ) {
    super();
  }
}

@CommandHandler(UpdateAlertRuleCommand)
export class UpdateAlertRuleHandler implements ICommandHandler<UpdateAlertRuleCommand> {
  constructor(
    private readonly rules: AlertRuleRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor, id, changes }: UpdateAlertRuleCommand): Promise<AlertRuleRow> {
    const rule = await this.rules.findById(id);
    if (!rule || !mayActOn(actor, rule.userId)) throw AppError.notFound('Alert rule');
    const set: AlertRuleChanges = { ...changes };
    // Switching to server_offline drops the operator and threshold not sent; switching away keeps none.
    if (changes.metric !== undefined && (changes.metric === 'server_offline') !== (rule.metric === 'server_offline')) {
      set.operator ??= null;
      set.threshold ??= null;
    }
    checkCondition({
      metric: set.metric ?? rule.metric,
      operator: set.operator === undefined ? rule.operator : set.operator,
      threshold: set.threshold === undefined ? rule.threshold : set.threshold,
    });
    // Checked against the rule's owner: an admin editing someone's rule may only point it at servers that owner may.
    if (set.server_id) await checkServer(this.queries, { userId: rule.userId, admin: actor.admin && rule.userId === actor.userId }, set.server_id);
    const watched: Array<keyof AlertRuleChanges> = ['metric', 'operator', 'threshold', 'duration_s', 'server_id'];
    const changed = watched.some((field) => set[field] !== undefined && set[field] !== current(rule, field));
    let resolution: AlertResolution | null = null;
    if (set.enabled === false) resolution = 'rule_disabled';
    else if (changed) resolution = 'rule_changed';
    let updated: AlertRuleRow | undefined;
    try {
      updated = await this.rules.updateOwned(id, rule.userId, set, resolution);
    } catch (error) {
      if ((error as { code?: string }).code === '23503') throw AppError.notFound('Server');
      throw error;
    }
    // Undefined: a concurrent delete won.
    if (!updated) throw AppError.notFound('Alert rule');
    return updated;
  }
}

function current(rule: AlertRuleRow, field: keyof AlertRuleChanges): unknown {
  switch (field) {
    case 'duration_s':
      return rule.durationS;
    case 'server_id':
      return rule.serverId;
    default:
      return rule[field];
  }
}
