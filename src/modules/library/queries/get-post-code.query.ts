import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';

/** The code a community post carries, as the library copies it into a snippet. */
export interface PostCode {
  title: string;
  /** null: the post carries no code. */
  code: string | null;
  code_language: string | null;
  tags: string[];
}

/**
 * The code of a post `actor` may read, or null when there is no such post or
 * the actor may not read it (POST /code-library/save with post_id asks this).
 *
 * Declared here, answered elsewhere: the library has no handler for it, the
 * community context does. The community context depends on the library, so
 * the library cannot import it (the dependency rule forbids cycles between
 * modules); the library states what it needs, and the context that owns posts
 * implements it with a @QueryHandler of its own, its visibility rules included.
 */
export class GetPostCodeQuery extends Query<PostCode | null> {
  constructor(
    readonly postId: string,
    readonly actor: Actor,
  ) {
    super();
  }
}
