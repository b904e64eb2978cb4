import { Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { DeleteNotificationCommand } from '../commands/delete-notification.command';
import { MarkAllNotificationsReadCommand } from '../commands/mark-all-notifications-read.command';
import { MarkNotificationReadCommand } from '../commands/mark-notification-read.command';
import { toNotificationJson } from '../notification.mapper';
import { ListNotificationsQuery } from '../queries/list-notifications.query';
import {
  DeletedNotificationResponse, ListNotificationsRequest, NotificationListResponse, NotificationResponse, ReadAllNotificationsResponse,
} from './dto/notification.dto';

const notFound = { description: 'No such notification of mine (anyone else\'s, even for an admin)', type: ErrorResponse };

/**
 * My notifications (JWT only): list, mark read, delete. They are written by
 * the notifications context itself when something happens to me, and pushed
 * live on the WebSocket channel `notifications` as they are.
 */
@ApiTags('notifications')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('notifications')
export class NotificationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'My notifications, newest first, with the number unread' })
  @ApiOkResponse({ type: NotificationListResponse })
  async list(@CurrentUser() user: Principal, @Query() query: ListNotificationsRequest): Promise<NotificationListResponse> {
    const unread = query.unread === undefined ? undefined : query.unread === 'true';
    const { rows, pagination, unreadCount } = await this.queries.execute(new ListNotificationsQuery(user.user_id, unread, query));
    return { notifications: rows.map(toNotificationJson), pagination, unread_count: unreadCount };
  }

  @Post('read-all')
  @HttpCode(200)
  @Audit({ action: 'notification.read_all', resourceType: 'notification' })
  @ApiOperation({ summary: 'Mark all my notifications read' })
  @ApiOkResponse({ type: ReadAllNotificationsResponse })
  readAll(@CurrentUser() user: Principal): Promise<ReadAllNotificationsResponse> {
    return this.commands.execute(new MarkAllNotificationsReadCommand(user.user_id));
  }

  @Post(':id/read')
  @HttpCode(200)
  @Audit({ action: 'notification.read', resourceType: 'notification' })
  @ApiOperation({ summary: 'Mark a notification read', description: 'Idempotent: a second call keeps the first read_at.' })
  @ApiOkResponse({ type: NotificationResponse })
  @ApiNotFoundResponse(notFound)
  async read(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<NotificationResponse> {
    return toNotificationJson(await this.commands.execute(new MarkNotificationReadCommand(user.user_id, id)));
  }

  @Delete(':id')
  @Audit({ action: 'notification.delete', resourceType: 'notification' })
  @ApiOperation({ summary: 'Delete a notification' })
  @ApiOkResponse({ type: DeletedNotificationResponse })
  @ApiNotFoundResponse(notFound)
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedNotificationResponse> {
    await this.commands.execute(new DeleteNotificationCommand(user.user_id, id));
    return { success: true };
  }
}
