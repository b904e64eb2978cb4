import { Command, CommandBus, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Principal } from '../../../common/auth/principal';
import { SecretBox } from '../../../common/crypto/secret-box';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { GetModelQuery } from '../../ai-catalog/queries/get-model.query';
import { GetProviderQuery } from '../../ai-catalog/queries/get-provider.query';
import { ExecutionResult, RunCodeCommand } from '../../execution/commands/run-code.command';
import { AiCaller, aiCallerOf, AiLimits } from '../ai-limits';
import { ChatExchange, ChatUsage, PreparedCall } from '../chat-exchange';
import { AiConfigRepository } from '../repositories/ai-config.repository';
import { ChatUpstream } from '../upstream/chat-upstream';
import { DEFAULT_MAX_TOKENS } from './create-ai-config.command';
import { openConfigKey } from '../config-key';

export type CodeLanguage = 'python' | 'javascript';

/** What a code generation asks for (the request DTO implements it). */
export interface GenerateCodeInput {
  prompt: string;
  language?: CodeLanguage;
  /** One of the caller's AI configs, used instead of their active config of the model's provider. */
  config_id?: string;
  /** A catalog model_name; left out: the config's model. */
  model?: string;
  /** Run the code (through the execution context, under the caller's plan). */
  run?: boolean;
}

export interface GeneratedCode {
  code: string;
  explanation: string;
  model: string;
  usage: ChatUsage;
  /** The finished run (GET /executions/:id's shape), when asked to run. */
  execution?: ExecutionResult;
}

const LANGUAGE_NAMES: Record<CodeLanguage, string> = { python: 'Python 3', javascript: 'JavaScript (Node.js)' };

/** What the model is told: one fenced block in the language, then a short explanation. */
export function codeSystemPrompt(language: CodeLanguage): string {
  return (
    `You write ${LANGUAGE_NAMES[language]} code. Answer with exactly one fenced code block (\`\`\`${language} … \`\`\`) ` +
    'holding a complete program that can run as is, then a short explanation in plain text after the block. ' +
    'Put nothing else in code blocks.'
  );
}

/**
 * The first fenced block of an answer (``` at the start of a line, with or
 * without a language tag; a block never closed runs to the end) and the text
 * around it (before and after, each trimmed, joined by a blank line); null when the answer has no such block.
 */
export function extractCodeBlock(answer: string): { code: string; explanation: string } | null {
  const open = /(?:^|\n)[ \t]*```[^\n`]*\n/.exec(answer);
  if (!open) return null;
  const start = open.index + open[0].length;
  const rest = answer.slice(start);
  const close = /(?:^|\n)[ \t]*```[ \t]*(?=\n|$)/.exec(rest);
  const code = close ? rest.slice(0, close.index) : rest;
  const after = close ? rest.slice(close.index + close[0].length) : '';
  // The text before and after the block, each trimmed, a blank line between them.
  const explanation = [answer.slice(0, open.index).trim(), after.trim()].filter((part) => part !== '').join('\n\n');
  return { code, explanation };
}

/**
 * Asks a model for code in one language and takes the first fenced block of
 * its answer as the code, the rest as the explanation. Credentials: the named
 * config of the caller (config_id; anyone else's answers 404), else as the
 * chat (the caller's active config of the model's provider, else the platform
 * key). The call's usage is recorded as the chat's is, without a
 * conversation, once the model has answered (so an answer without a code
 * block, 422, is counted too). With `run`, the code runs through the
 * execution context (RunCodeCommand: the caller's plan, limits and daily quota).
 */
export class GenerateCodeCommand extends Command<GeneratedCode> {
  constructor(
    readonly principal: Principal,
    readonly input: GenerateCodeInput,
    readonly signal?: AbortSignal,
  ) {
    super();
  }
}

@CommandHandler(GenerateCodeCommand)
export class GenerateCodeHandler implements ICommandHandler<GenerateCodeCommand> {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly exchange: ChatExchange,
    private readonly configs: AiConfigRepository,
    private readonly box: SecretBox,
    private readonly upstream: ChatUpstream,
    private readonly limits: AiLimits,
  ) {}

  async execute({ principal, input, signal }: GenerateCodeCommand): Promise<GeneratedCode> {
    const caller = aiCallerOf(principal);
    const language = input.language ?? 'python';
    const system = codeSystemPrompt(language);

    let call: PreparedCall;
    if (input.config_id !== undefined) {
      call = await this.withConfig(caller, input.config_id.toLowerCase(), input.model, system, input.prompt);
    } else {
      if (input.model === undefined) {
        throw AppError.badRequest('Name a model, or a config_id whose model to use', { fields: { model: ['model is required without config_id'] } });
      }
      // The chat's preparation: the model, the caller's credentials, the reply's budget; a new conversation is never stored here.
      call = await this.exchange.prepare(caller, { message: input.prompt, model: input.model, system_prompt: system });
    }
    const { model } = call;

    const result = await this.upstream.complete(call.request, signal);
    const usage = await this.exchange.recordCall(call, result.usage);

    const extracted = extractCodeBlock(result.content);
    if (!extracted) {
      throw new AppError(ErrorCode.UNPROCESSABLE, 'The model answered without a code block', { answer: result.content, model: model.model_name, usage });
    }
    const generated: GeneratedCode = { code: extracted.code, explanation: extracted.explanation, model: model.model_name, usage };
    if (input.run === true) {
      generated.execution = await this.commands.execute(new RunCodeCommand(principal, { code: extracted.code, language }));
    }
    return generated;
  }

  /**
   * The request with one of the caller's configs: its key, base_url (else the
   * provider's default), temperature and max_tokens; the caller's limits are
   * checked as ChatExchange.prepare checks them. A named config names its
   * provider: no failover to another one.
   */
  private async withConfig(
    caller: AiCaller,
    configId: string,
    modelName: string | undefined,
    system: string,
    prompt: string,
  ): Promise<PreparedCall> {
    // Only the caller's own configs, an admin's included: a config is someone's key.
    const config = await this.configs.findById(configId);
    if (!config || config.userId !== caller.userId) throw AppError.notFound('AI config');
    const model = await this.queries.execute(new GetModelQuery(modelName ?? config.model));
    if (!model || !model.is_active) throw AppError.notFound('Model');
    if (model.provider !== config.provider) {
      throw AppError.badRequest(`Model ${model.model_name} is a ${model.provider} model; AI config "${config.name}" is for ${config.provider}`, {
        fields: { model: [`must be a model of ${config.provider}`] },
      });
    }
    const provider = await this.queries.execute(new GetProviderQuery(model.provider));
    if (!provider || !provider.is_active) throw AppError.notFound('Model');
    await this.limits.check(caller, model.model_name);
    const baseUrl = config.baseUrl ?? provider.default_base_url;
    if (!baseUrl) {
      throw AppError.badRequest(`AI config "${config.name}" has no base_url and ${config.provider} has no default one`, { config_id: config.id });
    }
    const apiKey = openConfigKey(this.box, config);
    // The reply's budget as the chat's: the config's max_tokens, at most half the model's context.
    const replyBudget = Math.max(1, Math.min(config.maxTokens ?? DEFAULT_MAX_TOKENS, Math.floor(model.max_tokens / 2)));
    return {
      caller,
      model,
      request: {
        api_style: provider.api_style,
        base_url: baseUrl,
        api_key: apiKey,
        health_provider: baseUrl === provider.default_base_url ? provider.provider_key : null,
        model: model.model_name,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: prompt },
        ],
        temperature: config.temperature,
        max_tokens: replyBudget,
      },
    };
  }
}
