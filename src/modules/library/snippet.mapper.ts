import type { SnippetEntity } from './entities/snippet.entity';
import type { SnippetResponse } from './http/dto/snippet.dto';

/** The wire shape of a snippet: a whitelist, so nothing else of the row leaks. */
export function toSnippetResponse(row: SnippetEntity): SnippetResponse {
  return {
    id: row.id,
    user_id: row.userId,
    title: row.title,
    description: row.description,
    code: row.code,
    language: row.language,
    tags: row.tags,
    is_public: row.isPublic,
    environment_id: row.environmentId,
    saved_from_id: row.savedFromId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
