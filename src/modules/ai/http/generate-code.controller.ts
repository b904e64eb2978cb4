import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadGatewayResponse, ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { Audit, AuditSpec } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { GenerateCodeCommand, GeneratedCode } from '../commands/generate-code.command';
import { GenerateCodeRequest, GenerateCodeResponse } from './dto/generate-code.dto';

/** The model asked for and the language; never the prompt, the code or a key. */
function generateFacts(request: FastifyRequest): Record<string, unknown> {
  const body = request.body as Partial<GenerateCodeRequest> | undefined;
  if (!body || typeof body !== 'object') return {};
  return { model: body.model ?? null, language: body.language ?? 'python' };
}

const audit: AuditSpec = { action: 'ai.generate_code', metadata: generateFacts };

/** Whitelist of the result: the run as the execution context put it on the wire. */
function toGenerateCodeResponse(result: GeneratedCode): GenerateCodeResponse {
  return {
    code: result.code,
    explanation: result.explanation,
    model: result.model,
    usage: {
      prompt_tokens: result.usage.prompt_tokens,
      completion_tokens: result.usage.completion_tokens,
      total_tokens: result.usage.total_tokens,
      cost: result.usage.cost,
    },
    ...(result.execution !== undefined && { execution: result.execution as unknown as Record<string, unknown> }),
  };
}

/** Code written by a model, optionally run in the sandbox. */
@ApiTags('ai')
@Controller('ai')
export class GenerateCodeController {
  constructor(private readonly commands: CommandBus) {}

  @Post('generate-code')
  @HttpCode(200)
  @Authenticated()
  @Audit(audit)
  @ApiOperation({
    summary: 'Ask a model for code in one language (and run it)',
    description:
      'The model is asked for one fenced code block and a short explanation; `code` is the first fenced block of its answer, ' +
      '`explanation` the text around it. Credentials: config_id (one of my AI configs), else my active config of the model\'s provider, ' +
      'else the provider\'s platform key. The call\'s usage counts in GET /ai/usage (no conversation is stored). With `run`, ' +
      'the code runs as POST /execute would run it (my plan\'s limits and daily quota).',
  })
  @ApiOkResponse({ type: GenerateCodeResponse })
  @ApiBadRequestResponse({ description: 'Invalid input; no model and no config_id; the model is not of config_id\'s provider; no credentials', type: ErrorResponse })
  @ApiNotFoundResponse({ description: 'No such active model, or config_id names no config of mine', type: ErrorResponse })
  @ApiUnprocessableEntityResponse({
    description: 'UNPROCESSABLE: the model answered without a code block (details.answer holds its answer; the usage is counted), or my config\'s key cannot be decrypted',
    type: ErrorResponse,
  })
  @ApiTooManyRequestsResponse({ description: 'QUOTA_EXCEEDED (run: the daily run quota) or RATE_LIMITED', type: ErrorResponse })
  @ApiBadGatewayResponse({ description: 'UPSTREAM_ERROR: the provider failed or could not be reached; nothing was counted', type: ErrorResponse })
  async generate(@CurrentUser() user: Principal, @Body() body: GenerateCodeRequest): Promise<GenerateCodeResponse> {
    return toGenerateCodeResponse(await this.commands.execute(new GenerateCodeCommand(user, body)));
  }
}
