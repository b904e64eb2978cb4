import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { SnippetEntity } from '../entities/snippet.entity';
import { GetSnippetQuery } from '../queries/get-snippet.query';
import { SnippetRepository } from '../repositories/snippet.repository';

/** What is copied: a snippet, or the code embedded in a community post. */
export interface SaveSource {
  code_id?: string;
  post_id?: string;
}

type CopiedFields = Pick<SnippetEntity, 'title' | 'description' | 'code' | 'language' | 'tags' | 'environmentId' | 'savedFromId'>;

/** Copies a snippet the caller may read (own, public; an admin: any), or a post's code, into the caller's library as a private snippet. */
export class SaveSnippetCommand extends Command<{ id: string }> {
  constructor(
    readonly actor: Actor,
    readonly source: SaveSource,
  ) {
    super();
  }
}

@CommandHandler(SaveSnippetCommand)
export class SaveSnippetHandler implements ICommandHandler<SaveSnippetCommand> {
  constructor(
    private readonly snippets: SnippetRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor, source }: SaveSnippetCommand): Promise<{ id: string }> {
    if ((source.code_id === undefined) === (source.post_id === undefined)) {
      const message = 'exactly one of code_id and post_id is required';
      throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { code_id: [message], post_id: [message] } });
    }
    const fields = source.code_id !== undefined ? await this.fromSnippet(source.code_id, actor) : this.fromPost();
    const now = new Date();
    const row: SnippetEntity = { ...fields, id: uuidv7(), userId: actor.userId, isPublic: false, createdAt: now, updatedAt: now };
    await this.snippets.insert(row);
    return { id: row.id };
  }

  private async fromSnippet(id: string, actor: Actor): Promise<CopiedFields> {
    const original = await this.queries.execute(new GetSnippetQuery(id, actor));
    const { title, description, code, language, tags, environmentId } = original;
    return { title, description, code, language, tags, environmentId, savedFromId: original.id };
  }

  /**
   * The community context does not exist yet; once it does, this asks
   * its post query for the embedded code (savedFromId stays null: a post is no snippet).
   */
  private fromPost(): never {
    throw AppError.notFound('Post');
  }
}
