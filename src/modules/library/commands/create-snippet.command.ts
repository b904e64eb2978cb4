import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { uuidv7 } from '../../../common/ids';
import { ResolveEnvironmentQuery } from '../../environments/queries/resolve-environment.query';
import { SnippetEntity, SnippetLanguage } from '../entities/snippet.entity';
import { SnippetRepository } from '../repositories/snippet.repository';

export interface SnippetInput {
  title: string;
  description?: string;
  code: string;
  language?: SnippetLanguage;
  tags?: string[];
  is_public?: boolean;
  environment_id?: string | null;
}

/** Adds a snippet to the caller's library. */
export class CreateSnippetCommand extends Command<SnippetEntity> {
  constructor(
    readonly actor: Actor,
    readonly input: SnippetInput,
  ) {
    super();
  }
}

@CommandHandler(CreateSnippetCommand)
export class CreateSnippetHandler implements ICommandHandler<CreateSnippetCommand> {
  constructor(
    private readonly snippets: SnippetRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor, input }: CreateSnippetCommand): Promise<SnippetEntity> {
    if (input.environment_id) await assertMayRunWith(this.queries, actor, input.environment_id);
    const now = new Date();
    const row: SnippetEntity = {
      id: uuidv7(),
      userId: actor.userId,
      title: input.title,
      description: input.description ?? '',
      code: input.code,
      language: input.language ?? 'python',
      tags: input.tags ?? [],
      isPublic: input.is_public ?? false,
      environmentId: input.environment_id ?? null,
      savedFromId: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.snippets.insert(row);
    return row;
  }
}

/**
 * A snippet may name only an environment its writer may run with (their own, a
 * public one; an admin: any): otherwise every later run of it would fail. The
 * environments context decides, as it does for POST /execute, and the answer
 * is the same as there: 404 "Environment not found".
 */
export async function assertMayRunWith(queries: QueryBus, actor: Actor, environmentId: string): Promise<void> {
  // Without the audit notes: the environment's owner is not the owner of the snippet being written.
  const environment = await queries.execute(new ResolveEnvironmentQuery(environmentId, { userId: actor.userId, admin: actor.admin }));
  if (!environment) throw AppError.notFound('Environment');
}
