import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { LibraryModule } from '../library/library.module';
import { Authors } from './authors';
import { CommunityActivity } from './community-activity';
import { CommunityViewsSweepJob } from './community-views-sweep.job';
import { CreateCommentHandler } from './commands/create-comment.command';
import { CreatePostHandler } from './commands/create-post.command';
import { DeleteCommentHandler } from './commands/delete-comment.command';
import { DeletePostHandler } from './commands/delete-post.command';
import { RecordPostViewHandler } from './commands/record-post-view.command';
import { ToggleFollowHandler } from './commands/toggle-follow.command';
import { ToggleReactionHandler } from './commands/toggle-reaction.command';
import { UpdateCommentHandler } from './commands/update-comment.command';
import { UpdatePostHandler } from './commands/update-post.command';
import { CommentsController } from './http/comments.controller';
import { PeopleController } from './http/people.controller';
import { PostsController } from './http/posts.controller';
import { GetCommentHandler } from './queries/get-comment.query';
import { GetCommunityStatsHandler } from './queries/get-community-stats.query';
import { GetFollowStatusHandler } from './queries/get-follow-status.query';
import { GetPostHandler } from './queries/get-post.query';
import { ListCommentsHandler } from './queries/list-comments.query';
import { ListFavoritesHandler } from './queries/list-favorites.query';
import { ListFollowsHandler } from './queries/list-follows.query';
import { ListPostsHandler } from './queries/list-posts.query';
import { PostCodeHandler } from './queries/post-code.handler';
import { CommentRepository } from './repositories/comment.repository';
import { FollowRepository } from './repositories/follow.repository';
import { PostRepository } from './repositories/post.repository';
import { ReactionRepository } from './repositories/reaction.repository';

const controllers = [PostsController, CommentsController, PeopleController];
const commandHandlers = [
  CreatePostHandler, UpdatePostHandler, DeletePostHandler, RecordPostViewHandler, ToggleReactionHandler, ToggleFollowHandler,
  CreateCommentHandler, UpdateCommentHandler, DeleteCommentHandler,
];
const queryHandlers = [
  GetPostHandler, ListPostsHandler, ListFavoritesHandler, ListCommentsHandler, GetCommentHandler, ListFollowsHandler, GetFollowStatusHandler,
  GetCommunityStatsHandler, PostCodeHandler,
];
const repositories = [PostRepository, CommentRepository, ReactionRepository, FollowRepository];

/** Posts, nested comments, likes, favorites and follows (README: Community). */
@Module({
  // Identity: GetUserCardsQuery (authors, followed users). Library: GetSnippetQuery (a post's snippet_id);
  // and the library's GetPostCodeQuery is answered here (PostCodeHandler), so the library need not import this module.
  imports: [IdentityModule, LibraryModule],
  controllers,
  providers: [...repositories, ...commandHandlers, ...queryHandlers, Authors, CommunityActivity, CommunityViewsSweepJob],
})
export class CommunityModule {}
