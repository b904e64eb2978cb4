import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../../../common/auth/auth.decorators';
import { GetRealtimeStatsQuery } from '../queries/get-realtime-stats.query';
import type { RealtimeStats } from '../realtime-gateway';

export class RealtimeStatsResponse implements RealtimeStats {
  @ApiProperty({ description: 'Open sockets on this replica' }) connections!: number;
  @ApiProperty({ description: 'Of them, authenticated' }) authenticated!: number;
  @ApiProperty({ description: 'Distinct users with an authenticated socket' }) users!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { notifications: 12, execution: 3 }, description: 'Subscriptions by channel kind' })
  subscriptions!: Record<string, number>;
  @ApiProperty({ description: 'Messages received from clients since start' }) messages_in!: number;
  @ApiProperty({ description: 'Messages sent to clients since start' }) messages_out!: number;
  @ApiProperty({ description: 'Channel messages this replica delivered (from any replica) since start' }) published!: number;
  @ApiProperty({ description: 'Sockets closed with 4008 for reading too slowly since start' }) dropped_consumers!: number;
}

@ApiTags('admin')
@AdminOnly()
@Controller('admin/realtime')
export class AdminRealtimeController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'This replica\'s WebSocket gateway: connections, subscriptions by channel kind, messages, dropped consumers' })
  @ApiOkResponse({ type: RealtimeStatsResponse })
  stats(): Promise<RealtimeStatsResponse> {
    return this.queries.execute(new GetRealtimeStatsQuery());
  }
}
