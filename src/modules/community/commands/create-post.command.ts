import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { uuidv7 } from '../../../common/ids';
import { GetSnippetQuery } from '../../library/queries/get-snippet.query';
import { renderMarkdown } from '../markdown';
import { PostRepository } from '../repositories/post.repository';

export interface PostInput {
  title: string;
  content: string;
  code?: string | null;
  code_language?: string | null;
  snippet_id?: string | null;
  tags?: string[];
  is_public?: boolean;
}

/** Publishes a post; its Markdown is rendered to sanitized HTML once, here. Answers the new post's id. */
export class CreatePostCommand extends Command<{ id: string }> {
  constructor(
    readonly actor: Actor,
    readonly input: PostInput,
  ) {
    super();
  }
}

@CommandHandler(CreatePostCommand)
export class CreatePostHandler implements ICommandHandler<CreatePostCommand> {
  constructor(
    private readonly posts: PostRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor, input }: CreatePostCommand): Promise<{ id: string }> {
    const snippet = input.snippet_id ? await attachableSnippet(this.queries, actor, input.snippet_id) : null;
    const now = new Date();
    const id = uuidv7();
    await this.posts.insert({
      id,
      userId: actor.userId,
      title: input.title,
      content: input.content,
      contentHtml: renderMarkdown(input.content),
      // A post about a snippet shows the snippet's code unless it brings its own.
      code: input.code ?? snippet?.code ?? null,
      codeLanguage: input.code_language ?? (input.code == null ? snippet?.language : null) ?? null,
      snippetId: snippet?.id ?? null,
      tags: uniqueTags(input.tags ?? []),
      isPublic: input.is_public ?? true,
      createdAt: now,
      updatedAt: now,
    });
    return { id };
  }
}

/**
 * A post may point at the author's own snippet or a public one, never at
 * someone else's private snippet, not even an admin's post (it would show
 * that code to everyone). Otherwise 404 "Snippet not found".
 */
export async function attachableSnippet(queries: QueryBus, actor: Actor, snippetId: string): Promise<{ id: string; code: string; language: string }> {
  const snippet = await queries.execute(new GetSnippetQuery(snippetId, { userId: actor.userId, admin: false }));
  return { id: snippet.id, code: snippet.code, language: snippet.language };
}

export function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags)];
}
