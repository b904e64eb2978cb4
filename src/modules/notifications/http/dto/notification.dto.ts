import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import type { NotificationJson } from '../../notification.mapper';
import { NOTIFICATION_TYPES, NotificationType } from '../../notification-types';

export class ListNotificationsRequest extends PageQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: only unread notifications; false: only read ones; absent: all' })
  @IsOptionalNotNull()
  @IsIn(['true', 'false'])
  unread?: 'true' | 'false';
}

export class NotificationResponse implements NotificationJson {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: NOTIFICATION_TYPES }) type!: NotificationType;
  @ApiProperty({ example: 'alice liked your post “Binary search in 5 lines”', description: 'A short sentence; plain text, to be shown as text (never as HTML)' })
  title!: string;
  @ApiProperty({ description: 'More detail, plain text (e.g. the start of a comment); empty for most types' }) body!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { actor_id: '0193a4c2-7d1e-7b3a-9f00-5a1b2c3d4e5f', actor_username: 'alice', post_id: '0193a4c2-7d1e-7b3a-9f00-5a1b2c3d4e60' },
    description:
      'The ids the notification is about, by type: post_like, post_favorite, comment, reply, comment_like, follow: actor_id, actor_username, ' +
      'post_id and comment_id where they apply; file_upload: file_id, filename, path, size, project_id; ' +
      'execution_finished: execution_id, status, language, exit_code, duration_ms',
  })
  data!: Record<string, unknown>;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it was first marked read; null while unread' }) read_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class NotificationListResponse {
  @ApiProperty({ type: [NotificationResponse] }) notifications!: NotificationResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
  @ApiProperty({ description: 'All my unread notifications, whatever the filter and page' }) unread_count!: number;
}

export class ReadAllNotificationsResponse {
  @ApiProperty({ description: 'How many were unread and are now read' }) updated!: number;
}

export class DeletedNotificationResponse {
  @ApiProperty({ example: true }) success!: boolean;
}
