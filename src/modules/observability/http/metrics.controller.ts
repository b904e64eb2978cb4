import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public, SWAGGER_JWT } from '../../../common/auth/auth.decorators';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { SkipRateLimit } from '../../../common/http/skip-rate-limit';
import { MetricsRegistry } from '../metrics-registry';
import { MetricsAccessGuard } from './metrics-access.guard';

/**
 * GET /metrics, at the root (outside /api/v1, where scrapers look for it):
 * Prometheus' text format. Public for the global guards; MetricsAccessGuard
 * lets in an admin's JWT or METRICS_TOKEN. Not rate-limited: a scraper calls it
 * every few seconds.
 */
@ApiTags('metrics')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get('metrics')
  @Public()
  @SkipRateLimit()
  @UseGuards(MetricsAccessGuard)
  @ApiBearerAuth(SWAGGER_JWT)
  @ApiOperation({
    summary: 'Prometheus metrics of this replica (text format 0.0.4)',
    description:
      'For an admin (`Authorization: Bearer <JWT>`) or a scraper (`Authorization: Bearer $METRICS_TOKEN`). ' +
      'HTTP requests by route template and status, runs by language and status, the execution queue, warm sandboxes, ' +
      'the audit writer, the database pool, WebSocket connections, deployments by status, and the process\'s own figures. ' +
      'The README lists every metric.',
  })
  @ApiOkResponse({
    description: 'The metrics in Prometheus text format 0.0.4',
    content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
  })
  @ApiUnauthorizedResponse({ description: 'UNAUTHORIZED, TOKEN_EXPIRED or TOKEN_REVOKED: missing, invalid, expired or revoked credentials (or a wrong METRICS_TOKEN)', type: ErrorResponse })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: the caller is not an admin, or used an API key; ACCOUNT_DISABLED: the account is disabled', type: ErrorResponse })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const text = await this.metrics.metrics();
    void reply.type(this.metrics.contentType);
    return text;
  }
}
