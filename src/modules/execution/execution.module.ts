import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EnvironmentsModule } from '../environments/environments.module';
import { PlansModule } from '../plans/plans.module';
import { CancelExecutionHandler } from './commands/cancel-execution.command';
import { RunCodeHandler } from './commands/run-code.command';
import { StartExecutionHandler } from './commands/start-execution.command';
import { ExecutionEntity } from './entities/execution.entity';
import { ExecutionRunner } from './execution-runner';
import { ExecutionsReaperJob } from './executions-reaper.job';
import { AdminExecutionsController } from './http/admin-executions.controller';
import { ExecuteController } from './http/execute.controller';
import { ExecutionsController } from './http/executions.controller';
import { RuntimesController } from './http/runtimes.controller';
import { GetExecutionHandler } from './queries/get-execution.query';
import { GetExecutionLoadHandler } from './queries/get-execution-load.query';
import { GetExecutionStatsHandler } from './queries/get-execution-stats.query';
import { GetSandboxStatusHandler } from './queries/get-sandbox-status.query';
import { ListExecutionsHandler } from './queries/list-executions.query';
import { ListRuntimesHandler } from './queries/list-runtimes.query';
import { ExecutionRepository } from './repositories/execution.repository';
import { SandboxPool } from './sandbox/sandbox-pool';

const controllers = [ExecuteController, ExecutionsController, AdminExecutionsController, RuntimesController];
const commandHandlers = [StartExecutionHandler, CancelExecutionHandler, RunCodeHandler];
const queryHandlers = [GetExecutionHandler, ListExecutionsHandler, ListRuntimesHandler, GetSandboxStatusHandler, GetExecutionStatsHandler, GetExecutionLoadHandler];
const services = [SandboxPool, ExecutionRunner, ExecutionsReaperJob];
const repositories = [ExecutionRepository];

/** Code runs in bubblewrap sandboxes, their queue, quotas and history. */
@Module({
  // Plans: GetPlanQuery (a run's limits); environments: ResolveEnvironmentQuery (a run's interpreter).
  imports: [TypeOrmModule.forFeature([ExecutionEntity]), PlansModule, EnvironmentsModule],
  controllers,
  providers: [...repositories, ...services, ...commandHandlers, ...queryHandlers],
})
export class ExecutionModule {}
