import { PassThrough } from 'node:stream';
import { Body, Controller, Get, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadGatewayResponse, ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyScopes, Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { aiCallerOf } from '../ai-limits';
import { Audit, AuditSpec } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { toChatResponse, toUsageResponse } from '../chat.mapper';
import { SendChatMessageCommand } from '../commands/send-chat-message.command';
import { StreamChatMessageCommand } from '../commands/stream-chat-message.command';
import { GetAiUsageQuery } from '../queries/get-ai-usage.query';
import { ChatRequest, ChatResponse } from './dto/chat.dto';
import { UsageResponse } from './dto/conversation.dto';
import { sendEventStream } from '../../../common/http/event-stream';

/** Which model and conversation a chat write used; never the message, the prompt or a key. */
function chatFacts(request: FastifyRequest): Record<string, unknown> {
  const body = request.body as Partial<ChatRequest> | undefined;
  if (!body || typeof body !== 'object') return {};
  return { model: body.model, conversation_id: body.conversation_id ?? null };
}

const audit: AuditSpec = {
  action: 'ai.chat',
  resourceType: 'ai_conversation',
  resourceId: (result: { conversation_id?: string } | undefined) => result?.conversation_id,
  metadata: chatFacts,
};

/** A stream has no JSON result to read the conversation from: the one it continues, if any. */
const streamAudit: AuditSpec = {
  action: 'ai.chat',
  resourceType: 'ai_conversation',
  resourceIdFromRequest: (request) => {
    const id = (request.body as Partial<ChatRequest> | undefined)?.conversation_id;
    return typeof id === 'string' ? id.toLowerCase() : undefined;
  },
  metadata: chatFacts,
};

const refused = {
  badRequest: {
    description: 'Invalid input; BAD_REQUEST: no credentials for the model\'s provider (add an AI config for it, or an admin sets a platform key)',
    type: ErrorResponse,
  },
  notFound: { description: 'No such active model, or conversation_id names no conversation of mine', type: ErrorResponse },
  undecryptable: { description: 'My AI config\'s key cannot be decrypted: save it again', type: ErrorResponse },
};

/**
 * Chat with a catalog model, and what it has cost me. A message and its reply
 * are stored in a conversation (new unless conversation_id continues one of
 * mine) with the call's usage, all at once when the reply is complete: a call
 * that fails or is abandoned stores nothing.
 */
@ApiTags('ai')
@Controller('ai')
export class ChatController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('chat')
  @HttpCode(200)
  @ApiKeyScopes('ai:chat')
  @Audit(audit)
  @ApiOperation({
    summary: 'Send a message to a model and get its reply',
    description:
      'The conversation\'s earlier messages are sent along, the oldest left out when they would not fit the model\'s context with the reply. ' +
      'Credentials: my active AI config of the model\'s provider, else the provider\'s platform key.',
  })
  @ApiOkResponse({ type: ChatResponse })
  @ApiBadRequestResponse(refused.badRequest)
  @ApiNotFoundResponse(refused.notFound)
  @ApiUnprocessableEntityResponse(refused.undecryptable)
  @ApiBadGatewayResponse({ description: 'UPSTREAM_ERROR: the provider failed or could not be reached; nothing was stored', type: ErrorResponse })
  async chat(@CurrentUser() user: Principal, @Body() body: ChatRequest): Promise<ChatResponse> {
    return toChatResponse(await this.commands.execute(new SendChatMessageCommand(aiCallerOf(user), body)));
  }

  @Post('chat/stream')
  @ApiKeyScopes('ai:chat')
  @Audit(streamAudit)
  @ApiOperation({
    summary: 'Send a message to a model and stream its reply as Server-Sent Events',
    description:
      'Events (each `data:` is JSON): `{type:"content", content}` as the reply arrives, then `{type:"done", usage, conversation_id, model}` ' +
      'once it is stored, or `{type:"error", error:{code, message}}`. Refusals before the stream starts are plain JSON errors. ' +
      'Closing the connection stops the call to the model and stores nothing.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An event stream' })
  @ApiBadRequestResponse(refused.badRequest)
  @ApiNotFoundResponse(refused.notFound)
  @ApiUnprocessableEntityResponse(refused.undecryptable)
  async stream(@CurrentUser() user: Principal, @Body() body: ChatRequest, @Res() reply: FastifyReply): Promise<void> {
    const abort = new AbortController();
    // A client that goes away stops the call to the model.
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const events = await this.commands.execute(new StreamChatMessageCommand(aiCallerOf(user), body, abort.signal));
    const out = new PassThrough();
    void (async () => {
      try {
        for await (const event of events) {
          if (abort.signal.aborted) break;
          out.write(`data: ${JSON.stringify(event)}\n\n`);
        }
      } finally {
        out.end();
      }
    })();
    await sendEventStream(reply, out);
  }

  @Get('usage')
  @Authenticated()
  @ApiOperation({ summary: 'My AI usage: totals, per model, per UTC day of the last 30, my conversations and messages' })
  @ApiOkResponse({ type: UsageResponse })
  async usage(@CurrentUser() user: Principal): Promise<UsageResponse> {
    return toUsageResponse(await this.queries.execute(new GetAiUsageQuery(user.user_id)));
  }
}
