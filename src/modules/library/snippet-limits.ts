import type { SnippetLanguage } from './entities/snippet.entity';

/**
 * What a snippet may hold. The request DTOs validate against these, and so
 * does every path that writes a snippet from something else (a community
 * post's code), so no snippet holds what the API would refuse.
 */
export const SNIPPET_LANGUAGES = ['python', 'javascript'] as const satisfies readonly SnippetLanguage[];
export const MAX_TITLE = 200;
export const MAX_DESCRIPTION = 10_000;
export const MAX_CODE = 256 * 1024;
export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 50;

export function isSnippetLanguage(value: string | null | undefined): value is SnippetLanguage {
  return (SNIPPET_LANGUAGES as readonly string[]).includes(value ?? '');
}
