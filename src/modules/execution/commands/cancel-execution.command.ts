import { setTimeout as sleep } from 'node:timers/promises';
import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ExecutionEntity, FINISHED } from '../entities/execution.entity';
import { ExecutionRunner } from '../execution-runner';
import { GetExecutionQuery } from '../queries/get-execution.query';
import { ExecutionRepository } from '../repositories/execution.repository';

const WAIT_FOR_OTHER_REPLICA_MS = 3000;

/**
 * Stops a queued or running run (status `killed`) wherever it runs: the
 * caller's own, or (an admin) anyone's. A run that no live replica holds (its
 * replica crashed) is marked killed directly.
 */
export class CancelExecutionCommand extends Command<ExecutionEntity> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@CommandHandler(CancelExecutionCommand)
export class CancelExecutionHandler implements ICommandHandler<CancelExecutionCommand> {
  constructor(
    private readonly executions: ExecutionRepository,
    private readonly runner: ExecutionRunner,
    private readonly queries: QueryBus,
  ) {}

  async execute({ id, actor }: CancelExecutionCommand): Promise<ExecutionEntity> {
    const row = await this.queries.execute(new GetExecutionQuery(id, actor));
    if (FINISHED(row.status)) throw AppError.conflict(`The run already finished (${row.status})`, { status: row.status });
    await this.runner.cancel(id);
    const local = this.runner.find(id);
    if (local) return local.done;
    for (let waited = 0; waited < WAIT_FOR_OTHER_REPLICA_MS; waited += 100) {
      await sleep(100);
      const current = await this.executions.getById(id);
      if (FINISHED(current.status)) return current;
    }
    await this.executions.killUnfinished(id, new Date());
    return this.executions.getById(id);
  }
}
