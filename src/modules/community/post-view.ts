import type { Author } from './authors';
import type { PostRow } from './repositories/post.repository';

/** A post with its author, as the queries answer it (the mapper makes the wire shape). */
export interface PostView {
  row: PostRow;
  author: Author | null;
}

/** The page's posts with their authors, found in one query. */
export async function withAuthors(rows: PostRow[], authorsOf: (ids: string[]) => Promise<Map<string, Author>>): Promise<PostView[]> {
  const authors = await authorsOf(rows.map((row) => row.userId));
  return rows.map((row) => ({ row, author: authors.get(row.userId) ?? null }));
}
