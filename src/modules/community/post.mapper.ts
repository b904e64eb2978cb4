import type { PostResponse } from './http/dto/post.dto';
import type { PostView } from './post-view';

/** The wire shape of a post: a whitelist (the search vector and score never leave). */
export function toPostResponse({ row, author }: PostView): PostResponse {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    content_html: row.contentHtml,
    code: row.code,
    code_language: row.codeLanguage,
    snippet_id: row.snippetId,
    tags: row.tags,
    is_public: row.isPublic,
    author,
    likes_count: row.likesCount,
    favorites_count: row.favoritesCount,
    comments_count: row.commentsCount,
    views_count: row.viewsCount,
    liked: row.liked,
    favorited: row.favorited,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
