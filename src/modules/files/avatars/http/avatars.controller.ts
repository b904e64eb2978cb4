import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../../../common/auth/auth.decorators';
import { ErrorResponse } from '../../../../common/errors/error-response.dto';
import { matchesEtag } from '../../http/download-headers';
import { AVATAR_FILENAME } from '../avatar-names';
import { GetAvatarQuery } from '../queries/get-avatar.query';

/** A name is never reused for other bytes (it is derived from them), so a copy may be kept for a year and never rechecked. */
const CACHE_CONTROL = 'public, max-age=31536000, immutable';

@ApiTags('avatars')
@Controller('avatars')
export class AvatarsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':filename')
  @Public()
  @ApiOperation({
    summary: 'An avatar image, by the file name an avatar_url names (public)',
    description: 'Served with a strong ETag (the image\'s SHA-256) and cached for a year: a new avatar has a new name.',
  })
  @ApiParam({ name: 'filename', description: '64 hexadecimal digits and .webp', schema: { type: 'string', pattern: AVATAR_FILENAME.source } })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of a copy already held: 304 if it is current' })
  @ApiOkResponse({
    description: 'The image (WebP, at most 512×512)',
    content: { 'image/webp': { schema: { type: 'string', format: 'binary' } } },
    headers: {
      ETag: { description: 'The image\'s SHA-256, quoted', schema: { type: 'string' } },
      'Cache-Control': { description: CACHE_CONTROL, schema: { type: 'string' } },
    },
  })
  @ApiResponse({ status: 304, description: 'Not Modified: If-None-Match names the current ETag' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no avatar has this name (any more)', type: ErrorResponse })
  // The request itself rather than @Headers(): that would document If-None-Match a second time, as required.
  async get(@Param('filename') filename: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const avatar = await this.queries.execute(new GetAvatarQuery(filename));
    const etag = `"${avatar.hash}"`;
    if (matchesEtag(request.headers['if-none-match'], etag)) {
      await reply.status(304).header('etag', etag).header('cache-control', CACHE_CONTROL).send();
      return;
    }
    // Opened before any header is set: if it fails, the error goes out without the caching headers.
    const body = await avatar.open();
    await reply
      .status(200)
      .header('content-type', avatar.mimeType)
      .header('content-length', avatar.size)
      .header('etag', etag)
      .header('cache-control', CACHE_CONTROL)
      // Public images: a single-page app on another origin may show them (the API's default is same-origin).
      .header('cross-origin-resource-policy', 'cross-origin')
      .send(body);
  }
}
