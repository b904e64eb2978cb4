import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { SnippetEntity } from '../entities/snippet.entity';
import { GetPostCodeQuery } from '../queries/get-post-code.query';
import { GetSnippetQuery } from '../queries/get-snippet.query';
import { SnippetRepository } from '../repositories/snippet.repository';
import { isSnippetLanguage, MAX_CODE, MAX_TAG_LENGTH, MAX_TAGS, MAX_TITLE, SNIPPET_LANGUAGES } from '../snippet-limits';

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
    const fields = source.code_id !== undefined ? await this.fromSnippet(source.code_id, actor) : await this.fromPost(source.post_id!, actor);
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
   * The post's code, title and tags, asked of the context that owns posts
   * (GetPostCodeQuery); savedFromId stays null: a post is no snippet. What the
   * snippet API would refuse is refused here too (422), or cut to fit: the
   * title to the title limit, the tags to the valid ones.
   */
  private async fromPost(id: string, actor: Actor): Promise<CopiedFields> {
    const post = await this.queries.execute(new GetPostCodeQuery(id, actor));
    if (!post) throw AppError.notFound('Post');
    if (post.code === null || post.code === '') throw new AppError(ErrorCode.UNPROCESSABLE, 'The post has no code to save');
    if (post.code.length > MAX_CODE) throw new AppError(ErrorCode.UNPROCESSABLE, `The post's code is longer than a snippet may be (${MAX_CODE} characters)`);
    const language = post.code_language;
    if (!isSnippetLanguage(language)) {
      const named = language === null ? 'The post\'s code has no language' : `The post's code is in ${language}`;
      throw new AppError(ErrorCode.UNPROCESSABLE, `${named}; the library keeps ${SNIPPET_LANGUAGES.join(' and ')} only`, { language });
    }
    return { title: snippetTitle(post.title), description: '', code: post.code, language, tags: snippetTags(post.tags), environmentId: null, savedFromId: null };
  }
}

/** The post's title, trimmed and cut to the title limit (never inside a surrogate pair); a post without one gets a placeholder. */
function snippetTitle(title: string): string {
  let cut = title.trim().slice(0, MAX_TITLE);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut.trimEnd() || 'Untitled post';
}

/** The post's tags a snippet may carry: 1 to 50 characters, each once, at most 20. */
function snippetTags(tags: readonly unknown[]): string[] {
  const valid = tags.filter((tag): tag is string => typeof tag === 'string' && tag.length >= 1 && tag.length <= MAX_TAG_LENGTH);
  return [...new Set(valid)].slice(0, MAX_TAGS);
}
