import { PassThrough } from 'node:stream';
import { Body, Controller, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse, ApiBadRequestResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces,
  ApiServiceUnavailableResponse, ApiTags, ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiKeyScopes, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { CancelExecutionCommand } from '../commands/cancel-execution.command';
import { ExecutionMode, StartExecutionCommand, StartedExecution } from '../commands/start-execution.command';
import { toExecutionResponse } from '../execution.mapper';
import { ExecuteQuery, ExecuteRequest, ExecutionResponse, QueuedExecutionResponse } from './dto/execution.dto';
import { sendEventStream } from '../../../common/http/event-stream';

const audit = { action: 'code.execute', resourceType: 'execution', resourceId: (result: { id?: string }) => result?.id };

function idempotencyKeyOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length < 1 || value.length > 200) {
    throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { 'Idempotency-Key': ['must be 1 to 200 characters'] } });
  }
  return value;
}

@ApiTags('execution')
@ApiKeyScopes('execute')
@ApiBadRequestResponse({ description: 'Invalid input, or limits above the plan', type: ErrorResponse })
@ApiNotFoundResponse({ description: 'environment_id names no environment the caller may use', type: ErrorResponse })
@ApiTooManyRequestsResponse({ description: 'QUOTA_EXCEEDED (daily quota) or RATE_LIMITED', type: ErrorResponse })
@ApiServiceUnavailableResponse({ description: 'No sandbox on this machine, or the queue is full (Retry-After)', type: ErrorResponse })
@ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retried request with the same key returns the first run' })
@Controller('execute')
export class ExecuteController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  @Audit(audit)
  @ApiOperation({ summary: 'Run code in a sandbox and answer with its result', description: 'With `?wait=false`: 202 at once, then poll `GET /executions/{id}`.' })
  @ApiOkResponse({ type: ExecutionResponse })
  @ApiAcceptedResponse({ type: QueuedExecutionResponse })
  async execute(
    @CurrentUser() user: Principal,
    @Body() body: ExecuteRequest,
    @Query() query: ExecuteQuery,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ExecutionResponse | QueuedExecutionResponse> {
    const started = await this.start(user, body, idempotencyKey, query.wait === 'false' ? 'background' : 'wait');
    if (query.wait === 'false') {
      reply.status(202);
      return { id: started.row.id, status: started.row.status };
    }
    return toExecutionResponse(await started.done);
  }

  @Post('stream')
  @Audit(audit)
  @ApiOperation({
    summary: 'Run code and stream its output as Server-Sent Events',
    description:
      'Events (each `data:` is JSON): `{type:"queued", id}`, then `{type:"stdout"|"stderr", data}` as output arrives, ' +
      '`{type:"test", ...}` per test case, and last `{type:"result", ...}` with the same fields as POST /execute.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An event stream' })
  async stream(
    @CurrentUser() user: Principal,
    @Body() body: ExecuteRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const started = await this.start(user, body, idempotencyKey, 'stream');
    const events = new PassThrough();
    const send = (event: object) => events.write(`data: ${JSON.stringify(event)}\n\n`);
    send({ type: 'queued', id: started.row.id });
    const run = started.run;
    if (run) {
      run.events.on('output', (type: string, data: string) => send({ type, data }));
      run.events.on('test', (result: object) => send({ type: 'test', ...result }));
    }
    // A client that goes away stops its run; not a run it merely replays (another request started it).
    if (run && !started.replayed) {
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) this.commands.execute(new CancelExecutionCommand(started.row.id, actorOf(user))).catch(() => undefined);
      });
    }
    void started.done.then((row) => {
      send({ type: 'result', ...toExecutionResponse(row) });
      events.end();
    });
    await sendEventStream(reply, events);
  }

  private start(user: Principal, body: ExecuteRequest, idempotencyKey: string | undefined, mode: ExecutionMode): Promise<StartedExecution> {
    return this.commands.execute(new StartExecutionCommand(user, body, idempotencyKeyOf(idempotencyKey), mode));
  }
}
