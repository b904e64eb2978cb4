import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Audit } from '../../../common/audit/audit.decorator';
import { AdminOnly } from '../../../common/auth/auth.decorators';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { RunMaintenanceJobCommand } from '../commands/run-maintenance-job.command';
import { ListMaintenanceJobsQuery } from '../queries/list-maintenance-jobs.query';
import { JobRunResponse, MaintenanceJobListResponse } from './dto/maintenance.dto';

@ApiTags('admin')
@AdminOnly()
@Controller('admin/maintenance/jobs')
export class MaintenanceController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The built-in maintenance jobs with schedule, last run and next run' })
  @ApiOkResponse({ type: MaintenanceJobListResponse })
  async list(): Promise<MaintenanceJobListResponse> {
    return { jobs: await this.queries.execute(new ListMaintenanceJobsQuery()) };
  }

  @Post(':name/run')
  @HttpCode(200)
  @Audit({ action: 'maintenance.run', resourceType: 'maintenance_job', resourceId: (r) => r.job_name })
  @ApiOperation({ summary: 'Run a job now and wait for its result' })
  @ApiOkResponse({ type: JobRunResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ description: 'Running elsewhere right now', type: ErrorResponse })
  run(@Param('name') name: string): Promise<JobRunResponse> {
    return this.commands.execute(new RunMaintenanceJobCommand(name));
  }
}
