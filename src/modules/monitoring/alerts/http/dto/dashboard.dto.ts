import { ApiProperty } from '@nestjs/swagger';
import { MonitorStatsResponse } from '../../../http/dto/monitor.dto';
import type { RecentActivity } from '../../queries/get-monitor-dashboard.query';
import { AlertResponse } from './alert.dto';

export class RecentActivityResponse implements RecentActivity {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'alert_rule.create' }) action!: string;
  @ApiProperty({ type: String, nullable: true }) resource_type!: string | null;
  @ApiProperty({ type: String, nullable: true }) resource_id!: string | null;
  @ApiProperty() status_code!: number;
  @ApiProperty({ example: 'POST' }) method!: string;
  @ApiProperty({ example: '/api/v1/monitor/alert-rules' }) path!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class DashboardResponse {
  @ApiProperty({ type: MonitorStatsResponse, description: 'The figures of GET /monitor/stats' }) stats!: MonitorStatsResponse;
  @ApiProperty({ type: [AlertResponse], description: 'My newest open alerts (5 at most)' }) alerts!: AlertResponse[];
  @ApiProperty({ type: [RecentActivityResponse], description: 'My latest audit entries (10 at most, of the last 30 days)' }) recent_activities!: RecentActivityResponse[];
}
