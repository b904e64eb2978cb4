import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../../../common/auth/principal';
import { toExecutionResponse } from '../execution.mapper';
import { StartExecutionCommand, StartExecutionInput } from './start-execution.command';

/** A finished run on the wire (GET /executions/:id's shape). */
export type ExecutionResult = ReturnType<typeof toExecutionResponse>;

/** What another context may ask to run: the subset of POST /execute it needs, the language always named. */
export interface RunCodeRequest extends Omit<StartExecutionInput, 'files' | 'tests'> {
  language: 'python' | 'javascript';
}

/**
 * Runs code for another context (e.g. a library snippet) and waits for the
 * result: the same limits, quota, history and source (web/api) as POST /execute.
 */
export class RunCodeCommand extends Command<ExecutionResult> {
  constructor(
    readonly principal: Principal,
    readonly request: RunCodeRequest,
    readonly idempotencyKey?: string,
  ) {
    super();
  }
}

@CommandHandler(RunCodeCommand)
export class RunCodeHandler implements ICommandHandler<RunCodeCommand> {
  constructor(private readonly commands: CommandBus) {}

  async execute({ principal, request, idempotencyKey }: RunCodeCommand): Promise<ExecutionResult> {
    const started = await this.commands.execute(new StartExecutionCommand(principal, request, idempotencyKey));
    return toExecutionResponse(await started.done);
  }
}
