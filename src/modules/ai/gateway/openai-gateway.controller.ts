import { PassThrough } from 'node:stream';
import { Body, Controller, Get, HttpCode, Post, Res, UseFilters } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiExtension, ApiExtraModels, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyScopes, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { aiCallerOf } from '../ai-limits';
import { Audit, AuditSpec } from '../../../common/audit/audit.decorator';
import { noteForAudit } from '../../../common/audit/audit-notes';
import { describeError } from '../../../common/errors/error-envelope';
import { AppLogger } from '../../../common/logging/app-logger';
import { ListCallableModelsQuery } from '../queries/list-callable-models.query';
import { isAborted } from '../upstream/chat-upstream';
import { GatewayCompleteCommand, GatewayStreamCommand } from './gateway-chat.command';
import { ChatCompletionResponse, GatewayChatRequest, OpenAiModelListResponse, OpenAiErrorResponse } from './gateway.dto';
import { newCompletionHead, toChatCompletion, toChunk, toModelList, toOpenAiUsage, toUsageChunk } from './gateway.mapper';
import { openAiErrorOf, OpenAiErrorFilter } from './openai-error.filter';
import { sendEventStream } from '../../../common/http/event-stream';

/** Which model a gateway call used; never the messages or a key. */
const audit: AuditSpec = {
  action: 'ai.gateway_chat',
  resourceType: 'ai_gateway',
  metadata: (request: FastifyRequest) => {
    const model = (request.body as { model?: unknown } | undefined)?.model;
    return typeof model === 'string' ? { model } : {};
  },
};

/**
 * An OpenAI-compatible API at the server root (`/v1`, outside the /api/v1
 * prefix: http-setup.ts), so OpenAI's SDKs and tools work unchanged with
 * `baseURL: <server>/v1` and a CodeRunner API key (scope ai:chat) as their key.
 * Chat completions, plain or streamed, with the catalog's models and the same
 * credentials as /ai/chat; usage is recorded, no conversation is stored.
 * Errors, guard refusals included, are in OpenAI's shape (OpenAiErrorFilter),
 * and openapi.json says so (x-error-schema).
 */
@ApiTags('openai-compatible')
@ApiExtraModels(OpenAiErrorResponse)
@ApiExtension('x-error-schema', { $ref: getSchemaPath(OpenAiErrorResponse) })
@UseFilters(OpenAiErrorFilter)
@Controller('v1')
export class OpenAiGatewayController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly logger: AppLogger,
  ) {}

  @Get('models')
  @ApiKeyScopes('ai:chat')
  @ApiOperation({
    summary: 'OpenAI-compatible: the chat models this key may call',
    description: 'At the server root, outside /api/v1: point an OpenAI SDK at `<server>/v1` with a CodeRunner API key (scope ai:chat) as its key.',
  })
  @ApiOkResponse({ type: OpenAiModelListResponse })
  async models(@CurrentUser() user: Principal) {
    return toModelList(await this.queries.execute(new ListCallableModelsQuery(aiCallerOf(user))));
  }

  @Post('chat/completions')
  @HttpCode(200)
  @ApiKeyScopes('ai:chat')
  @Audit(audit)
  @ApiOperation({
    summary: 'OpenAI-compatible chat completion, whole or streamed',
    description:
      'OpenAI\'s wire format, so its official SDKs work unchanged (baseURL `<server>/v1`, a CodeRunner API key with ai:chat as the key). ' +
      'With `stream: true` the answer is Server-Sent Events: `data: {chat.completion.chunk}` lines, a usage chunk when ' +
      '`stream_options.include_usage`, then `data: [DONE]`. Credentials, failover and limits as POST /api/v1/ai/chat; usage is recorded, ' +
      'no conversation is stored. Errors are OpenAI\'s `{error: {message, type, code, param}}`.',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ type: ChatCompletionResponse, description: 'A chat.completion object, or with stream: true an event stream of chunks' })
  @ApiBadRequestResponse({ description: 'invalid_request_error: a malformed body, or no credentials for the model\'s provider' })
  @ApiNotFoundResponse({ description: 'not_found_error: no active model of that name' })
  @ApiResponse({ status: 429, description: 'rate_limit_error: the plan\'s or the key\'s AI limit (insufficient_quota) or the rate limit' })
  @ApiResponse({ status: 502, description: 'api_error: the provider failed (UPSTREAM_ERROR)' })
  @ApiResponse({ status: 503, description: 'api_error: every provider of the model is cooling down (Retry-After)' })
  async completions(@CurrentUser() user: Principal, @Body() body: GatewayChatRequest, @Res() reply: FastifyReply): Promise<void> {
    noteForAudit(user, { model: body.model });
    if (body.stream === true) return this.stream(user, body, reply);
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const result = await this.commands.execute(new GatewayCompleteCommand(aiCallerOf(user), body, abort.signal));
    await reply.status(200).send(toChatCompletion(newCompletionHead(body.model), result.content, toOpenAiUsage(result.usage)));
  }

  private async stream(user: Principal, body: GatewayChatRequest, reply: FastifyReply): Promise<void> {
    const abort = new AbortController();
    // A client that goes away stops the call to the model.
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const events = await this.commands.execute(new GatewayStreamCommand(aiCallerOf(user), body, abort.signal));
    const head = newCompletionHead(body.model);
    const includeUsage = body.stream_options?.include_usage === true;
    const out = new PassThrough();
    const send = (payload: unknown): void => {
      out.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    void (async () => {
      try {
        send(toChunk(head, { role: 'assistant', content: '' }, null));
        for await (const event of events) {
          if (abort.signal.aborted) break;
          if (event.type === 'content') {
            send(toChunk(head, { content: event.content }, null));
          } else {
            send(toChunk(head, {}, 'stop'));
            if (includeUsage) send(toUsageChunk(head, toOpenAiUsage(event.usage)));
            out.write('data: [DONE]\n\n');
          }
        }
      } catch (error) {
        if (!abort.signal.aborted && !isAborted(error)) {
          // As OpenAI does: an error event in the stream, which the SDKs raise as an APIError.
          const described = describeError(error, String(reply.request.id));
          if (described.unexpected) this.logger.pino.error({ err: error, request_id: reply.request.id }, 'gateway stream failed');
          send(openAiErrorOf(described));
        }
      } finally {
        out.end();
      }
    })();
    await sendEventStream(reply, out);
  }
}
