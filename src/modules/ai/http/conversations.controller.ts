import { Body, Controller, Delete, Get, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { PageQuery } from '../../../common/http/pagination';
import { UuidParam } from '../../../common/http/uuid-param';
import { toConversationResponse, toMessageResponse } from '../chat.mapper';
import { DeleteConversationCommand } from '../commands/delete-conversation.command';
import { RenameConversationCommand } from '../commands/rename-conversation.command';
import { ListConversationMessagesQuery } from '../queries/list-conversation-messages.query';
import { ListConversationsQuery } from '../queries/list-conversations.query';
import {
  ConversationListResponse, ConversationResponse, DeletedConversationResponse, MessageListResponse, RenameConversationRequest,
} from './dto/conversation.dto';

const notFound = { description: 'No such conversation of mine (an admin: of anyone\'s)', type: ErrorResponse };

/** My AI chat conversations (JWT only): list, read, rename, delete. */
@ApiTags('ai')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('conversations')
export class ConversationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'My conversations, most recently updated first' })
  @ApiOkResponse({ type: ConversationListResponse })
  async list(@CurrentUser() user: Principal, @Query() query: PageQuery): Promise<ConversationListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListConversationsQuery(user.user_id, query));
    return { conversations: rows.map(toConversationResponse), pagination };
  }

  @Get(':id/messages')
  @ApiOperation({ summary: 'A conversation\'s messages, oldest first' })
  @ApiOkResponse({ type: MessageListResponse })
  @ApiNotFoundResponse(notFound)
  async messages(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: PageQuery): Promise<MessageListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListConversationMessagesQuery(actorOf(user), id, query));
    return { messages: rows.map(toMessageResponse), pagination };
  }

  @Put(':id')
  @Audit({ action: 'ai_conversation.update', resourceType: 'ai_conversation', metadata: fieldsOf })
  @ApiOperation({ summary: 'Rename a conversation' })
  @ApiOkResponse({ type: ConversationResponse })
  @ApiNotFoundResponse(notFound)
  async rename(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: RenameConversationRequest): Promise<ConversationResponse> {
    return toConversationResponse(await this.commands.execute(new RenameConversationCommand(actorOf(user), id, body.title)));
  }

  @Delete(':id')
  @Audit({ action: 'ai_conversation.delete', resourceType: 'ai_conversation' })
  @ApiOperation({ summary: 'Delete a conversation and its messages (its usage stays in my totals)' })
  @ApiOkResponse({ type: DeletedConversationResponse })
  @ApiNotFoundResponse(notFound)
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedConversationResponse> {
    await this.commands.execute(new DeleteConversationCommand(actorOf(user), id));
    return { success: true };
  }
}
