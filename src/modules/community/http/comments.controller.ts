import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { ActionRateLimit } from '../../../common/http/action-rate-limit';
import { PageQuery } from '../../../common/http/pagination';
import { UuidParam } from '../../../common/http/uuid-param';
import { toCommentResponse, toCommentTrees } from '../comment.mapper';
import { CreateCommentCommand } from '../commands/create-comment.command';
import { DeleteCommentCommand } from '../commands/delete-comment.command';
import { ToggleReactionCommand } from '../commands/toggle-reaction.command';
import { UpdateCommentCommand } from '../commands/update-comment.command';
import { GetCommentQuery } from '../queries/get-comment.query';
import { ListCommentsQuery } from '../queries/list-comments.query';
import { CommentLikeResponse, CommentListResponse, CommentResponse, CreateCommentRequest, UpdateCommentRequest } from './dto/comment.dto';
import { DeletedResponse } from './dto/community.dto';
import { COMMUNITY_REACT, COMMUNITY_WRITE, DISABLED_OR } from './limits';

const commentNotFound = { description: 'No such comment, a deleted one, or one on a post I cannot see', type: ErrorResponse };

@ApiTags('community')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('community')
export class CommentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('posts/:id/comments')
  @ActionRateLimit(COMMUNITY_WRITE)
  @Audit({ action: 'comment.create', resourceType: 'comment', resourceId: (r) => r.id, metadata: (request) => ({ post_id: (request.params as { id?: string }).id }) })
  @ApiOperation({
    summary: 'Comment on a post, or reply to one of its comments (parent_id)',
    description: 'A reply\'s parent must be a comment of the same post (400 otherwise). At most 10 posts and comments per 30 s.',
  })
  @ApiCreatedResponse({ type: CommentResponse })
  @ApiNotFoundResponse({ description: 'No such post, or another user\'s private post', type: ErrorResponse })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: more than 10 posts and comments in 30 s, or the plan\'s request limit', type: ErrorResponse })
  async create(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: CreateCommentRequest): Promise<CommentResponse> {
    const actor = actorOf(user);
    const created = await this.commands.execute(new CreateCommentCommand(actor, id, body));
    return toCommentResponse(await this.queries.execute(new GetCommentQuery(created.id, actor)));
  }

  @Get('posts/:id/comments')
  @ApiOperation({ summary: 'A page of a post\'s top-level comments, oldest first, each with all its replies as a tree' })
  @ApiOkResponse({ type: CommentListResponse })
  @ApiNotFoundResponse({ description: 'No such post, or another user\'s private post', type: ErrorResponse })
  async list(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: PageQuery): Promise<CommentListResponse> {
    const { comments, pagination } = await this.queries.execute(new ListCommentsQuery(actorOf(user), id, query));
    return { comments: toCommentTrees(comments), pagination };
  }

  @Put('comments/:id')
  @Audit({ action: 'comment.update', resourceType: 'comment' })
  @ApiOperation({ summary: 'New text for my comment' })
  @ApiOkResponse({ type: CommentResponse })
  @ApiForbiddenResponse({ description: `FORBIDDEN: not my comment; ${DISABLED_OR}`, type: ErrorResponse })
  @ApiNotFoundResponse(commentNotFound)
  async update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateCommentRequest): Promise<CommentResponse> {
    const actor = actorOf(user);
    await this.commands.execute(new UpdateCommentCommand(actor, id, body.content));
    return toCommentResponse(await this.queries.execute(new GetCommentQuery(id, actor)));
  }

  @Delete('comments/:id')
  @Audit({ action: 'comment.delete', resourceType: 'comment' })
  @ApiOperation({ summary: 'Delete a comment (the author, or an admin): it shows as "[deleted]" and its replies stay' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiForbiddenResponse({ description: `FORBIDDEN: neither my comment nor am I an admin; ${DISABLED_OR}`, type: ErrorResponse })
  @ApiNotFoundResponse(commentNotFound)
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeleteCommentCommand(actorOf(user), id));
    return { success: true };
  }

  @Post('comments/:id/like')
  @HttpCode(200)
  @ActionRateLimit(COMMUNITY_REACT)
  @Audit({ action: 'comment.like', resourceType: 'comment' })
  @ApiOperation({ summary: 'Like a comment, or take the like back', description: 'A toggle. At most 30 likes, favorites and follows per 30 s.' })
  @ApiOkResponse({ type: CommentLikeResponse })
  @ApiNotFoundResponse(commentNotFound)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: more than 30 likes, favorites and follows in 30 s, or the plan\'s request limit', type: ErrorResponse })
  async like(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<CommentLikeResponse> {
    const { on, count } = await this.commands.execute(new ToggleReactionCommand('comment_like', id, actorOf(user)));
    return { liked: on, likes_count: count };
  }
}
