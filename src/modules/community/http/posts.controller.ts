import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { ActionRateLimit } from '../../../common/http/action-rate-limit';
import { PageQuery } from '../../../common/http/pagination';
import { UuidParam } from '../../../common/http/uuid-param';
import { CreatePostCommand } from '../commands/create-post.command';
import { DeletePostCommand } from '../commands/delete-post.command';
import { RecordPostViewCommand } from '../commands/record-post-view.command';
import { ToggleReactionCommand } from '../commands/toggle-reaction.command';
import { UpdatePostCommand } from '../commands/update-post.command';
import { toPostResponse } from '../post.mapper';
import { GetPostQuery } from '../queries/get-post.query';
import { ListFavoritesQuery } from '../queries/list-favorites.query';
import { ListPostsQuery } from '../queries/list-posts.query';
import { DeletedResponse } from './dto/community.dto';
import {
  CreatePostRequest, FavoriteResponse, LikeResponse, ListPostsRequest, PostListResponse, PostResponse, UpdatePostRequest,
} from './dto/post.dto';
import { COMMUNITY_REACT, COMMUNITY_WRITE, DISABLED_OR } from './limits';

const postNotFound = { description: 'No such post, or another user\'s private post', type: ErrorResponse };
const tooMany = (what: string) => ({ description: `RATE_LIMITED: ${what} (Retry-After says when to retry), or the plan's request limit`, type: ErrorResponse });

@ApiTags('community')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('community')
export class PostsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('posts')
  @ActionRateLimit(COMMUNITY_WRITE)
  @Audit({ action: 'post.create', resourceType: 'post', resourceId: (r) => r.id, metadata: fieldsOf })
  @ApiOperation({ summary: 'Publish a post (Markdown, optional code or snippet, tags)', description: 'At most 10 posts and comments per 30 s.' })
  @ApiCreatedResponse({ type: PostResponse })
  @ApiNotFoundResponse({ description: 'snippet_id names no snippet of mine nor a public one', type: ErrorResponse })
  @ApiTooManyRequestsResponse(tooMany('more than 10 posts and comments in 30 s'))
  async create(@CurrentUser() user: Principal, @Body() body: CreatePostRequest): Promise<PostResponse> {
    const actor = actorOf(user);
    const { id } = await this.commands.execute(new CreatePostCommand(actor, body));
    return toPostResponse(await this.queries.execute(new GetPostQuery(id, actor)));
  }

  @Get('posts')
  @ApiOperation({
    summary: 'Posts: public ones (and my own with author_id=me), newest or most popular first',
    description: 'Filters combine: tag, author_id, q (full-text over title and content), following=true (posts by people I follow).',
  })
  @ApiOkResponse({ type: PostListResponse })
  async list(@CurrentUser() user: Principal, @Query() query: ListPostsRequest): Promise<PostListResponse> {
    const filters = { tag: query.tag, author_id: query.author_id, q: query.q, following: query.following === 'true', sort: query.sort };
    const { posts, pagination } = await this.queries.execute(new ListPostsQuery(actorOf(user), filters, query));
    return { posts: posts.map(toPostResponse), pagination };
  }

  @Get('posts/:id')
  @ApiOperation({ summary: 'One post; counts a view (once per user and post per hour, not the author\'s own)' })
  @ApiOkResponse({ type: PostResponse })
  @ApiNotFoundResponse(postNotFound)
  async get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<PostResponse> {
    const actor = actorOf(user);
    await this.commands.execute(new RecordPostViewCommand(actor, id));
    return toPostResponse(await this.queries.execute(new GetPostQuery(id, actor)));
  }

  @Put('posts/:id')
  @Audit({ action: 'post.update', resourceType: 'post', metadata: fieldsOf })
  @ApiOperation({ summary: 'Change the fields given of my post (the author only)' })
  @ApiOkResponse({ type: PostResponse })
  @ApiForbiddenResponse({ description: `FORBIDDEN: not my post; ${DISABLED_OR}`, type: ErrorResponse })
  @ApiNotFoundResponse({ description: `${postNotFound.description}; or snippet_id names no snippet of mine nor a public one`, type: ErrorResponse })
  async update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdatePostRequest): Promise<PostResponse> {
    const actor = actorOf(user);
    await this.commands.execute(new UpdatePostCommand(actor, id, body));
    return toPostResponse(await this.queries.execute(new GetPostQuery(id, actor)));
  }

  @Delete('posts/:id')
  @Audit({ action: 'post.delete', resourceType: 'post' })
  @ApiOperation({ summary: 'Delete a post with its comments (the author, or an admin)' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiForbiddenResponse({ description: `FORBIDDEN: neither my post nor am I an admin; ${DISABLED_OR}`, type: ErrorResponse })
  @ApiNotFoundResponse(postNotFound)
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeletePostCommand(actorOf(user), id));
    return { success: true };
  }

  @Post('posts/:id/like')
  @HttpCode(200)
  @ActionRateLimit(COMMUNITY_REACT)
  @Audit({ action: 'post.like', resourceType: 'post' })
  @ApiOperation({ summary: 'Like a post, or take the like back', description: 'A toggle. At most 30 likes, favorites and follows per 30 s.' })
  @ApiOkResponse({ type: LikeResponse })
  @ApiNotFoundResponse(postNotFound)
  @ApiTooManyRequestsResponse(tooMany('more than 30 likes, favorites and follows in 30 s'))
  async like(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<LikeResponse> {
    const { on, count } = await this.commands.execute(new ToggleReactionCommand('post_like', id, actorOf(user)));
    return { liked: on, likes_count: count };
  }

  @Post('posts/:id/favorite')
  @HttpCode(200)
  @ActionRateLimit(COMMUNITY_REACT)
  @Audit({ action: 'post.favorite', resourceType: 'post' })
  @ApiOperation({ summary: 'Favorite a post, or take it back', description: 'A toggle. At most 30 likes, favorites and follows per 30 s.' })
  @ApiOkResponse({ type: FavoriteResponse })
  @ApiNotFoundResponse(postNotFound)
  @ApiTooManyRequestsResponse(tooMany('more than 30 likes, favorites and follows in 30 s'))
  async favorite(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<FavoriteResponse> {
    const { on, count } = await this.commands.execute(new ToggleReactionCommand('post_favorite', id, actorOf(user)));
    return { favorited: on, favorites_count: count };
  }

  @Get('favorites')
  @ApiOperation({ summary: 'My favorited posts, most recently favorited first' })
  @ApiOkResponse({ type: PostListResponse })
  async favorites(@CurrentUser() user: Principal, @Query() query: PageQuery): Promise<PostListResponse> {
    const { posts, pagination } = await this.queries.execute(new ListFavoritesQuery(actorOf(user), query));
    return { posts: posts.map(toPostResponse), pagination };
  }
}
