import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../../common/auth/ownership';
import { AppError } from '../../../../common/errors/app-error';
import { AlertRuleRepository } from '../repositories/alert-rule.repository';

/**
 * Deletes one of the caller's rules (an admin: anyone's); anyone else's
 * answers 404. Its open alerts are resolved (`rule_deleted`) and all its
 * alerts stay in the history, their rule_id null.
 */
export class DeleteAlertRuleCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteAlertRuleCommand)
export class DeleteAlertRuleHandler implements ICommandHandler<DeleteAlertRuleCommand> {
  constructor(private readonly rules: AlertRuleRepository) {}

  async execute({ actor, id }: DeleteAlertRuleCommand): Promise<void> {
    const rule = await this.rules.findById(id);
    if (!rule || !mayActOn(actor, rule.userId)) throw AppError.notFound('Alert rule');
    if (!(await this.rules.deleteOwned(id, rule.userId))) throw AppError.notFound('Alert rule');
  }
}
