import { Command, CommandBus, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { ExecutionResult, RunCodeCommand } from '../../execution/commands/run-code.command';
import { GetSnippetQuery } from '../queries/get-snippet.query';

export interface RunOptions {
  stdin?: string;
  timeout_ms?: number;
  memory_mb?: number;
  args?: string[];
}

/** Runs a snippet the caller may read (own, public; an admin: any) with its environment, through the execution engine. */
export class RunSnippetCommand extends Command<ExecutionResult> {
  constructor(
    readonly principal: Principal,
    readonly id: string,
    readonly options: RunOptions,
  ) {
    super();
  }
}

@CommandHandler(RunSnippetCommand)
export class RunSnippetHandler implements ICommandHandler<RunSnippetCommand> {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  async execute({ principal, id, options }: RunSnippetCommand): Promise<ExecutionResult> {
    const snippet = await this.queries.execute(new GetSnippetQuery(id, actorOf(principal)));
    const request = { ...options, code: snippet.code, language: snippet.language, environment_id: snippet.environmentId ?? undefined };
    return this.commands.execute(new RunCodeCommand(principal, request));
  }
}
