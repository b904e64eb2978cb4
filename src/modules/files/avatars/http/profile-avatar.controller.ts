import { Controller, Delete, HttpCode, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse, ApiTags, ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Audit } from '../../../../common/audit/audit.decorator';
import { Authenticated, CurrentUser } from '../../../../common/auth/auth.decorators';
import { actorOf } from '../../../../common/auth/ownership';
import type { Principal } from '../../../../common/auth/principal';
import { ErrorResponse } from '../../../../common/errors/error-response.dto';
import { AcceptsMultipart } from '../../../../common/http/body-parsers';
import { Blobs } from '../../storage/blobs';
import { DeleteAvatarCommand } from '../commands/delete-avatar.command';
import { UploadAvatarCommand } from '../commands/upload-avatar.command';
import { receiveAvatar } from './avatar-upload';
import { AVATAR_UPLOAD_BODY, AvatarDeletedResponse, AvatarResponse } from './dto/avatar.dto';

/** The file name in the URL of the avatar a request set (the audit entry's resource). */
const filenameOf = (result: AvatarResponse | undefined) => result?.avatar_url?.split('/').pop();

/**
 * The caller's own avatar. JWT only: an avatar is changed by its owner in a
 * browser, not by a program holding an API key. What the audit entries record
 * of an image is the stored avatar's size and SHA-256 (the handlers note
 * them), never its contents.
 */
@ApiTags('profile')
@Authenticated()
@Controller('profile')
export class ProfileAvatarController {
  constructor(
    private readonly commands: CommandBus,
    private readonly blobs: Blobs,
  ) {}

  @Post('upload-avatar')
  @HttpCode(200)
  @AcceptsMultipart()
  @Audit({ action: 'avatar.upload', resourceType: 'avatar', resourceId: filenameOf })
  @ApiOperation({
    summary: 'Set my avatar from an image (PNG, JPEG, WebP or GIF, at most 2 MB)',
    description:
      'The image is re-encoded by the server: turned upright by its EXIF orientation, its first frame only, scaled down to fit ' +
      'within 512×512, stored as WebP without metadata. Replaces any previous avatar; `avatar_url` of GET /users/me names the new one.',
  })
  @ApiBody(AVATAR_UPLOAD_BODY)
  @ApiOkResponse({ type: AvatarResponse })
  @ApiBadRequestResponse({ description: 'BAD_REQUEST: no image part, more than one, or a malformed multipart body', type: ErrorResponse })
  @ApiPayloadTooLargeResponse({ description: 'FILE_TOO_LARGE: the image is larger than 2 MB', type: ErrorResponse })
  @ApiUnsupportedMediaTypeResponse({
    description: 'INVALID_FILE_TYPE: not a PNG, JPEG, WebP or GIF image by its contents, or one that does not decode; UNSUPPORTED_MEDIA_TYPE: the body is not multipart/form-data',
    type: ErrorResponse,
  })
  async upload(@CurrentUser() user: Principal, @Req() request: FastifyRequest): Promise<AvatarResponse> {
    const upload = await receiveAvatar(request, this.blobs.staging);
    try {
      const { avatarUrl } = await this.commands.execute(new UploadAvatarCommand(actorOf(user), upload));
      return { avatar_url: avatarUrl };
    } finally {
      await this.blobs.discard(upload.staged);
    }
  }

  @Delete('avatar')
  @Audit({ action: 'avatar.delete', resourceType: 'avatar' })
  @ApiOperation({ summary: 'Remove my avatar (avatar_url becomes null); without one, nothing changes' })
  @ApiOkResponse({ type: AvatarDeletedResponse })
  async remove(@CurrentUser() user: Principal): Promise<AvatarDeletedResponse> {
    await this.commands.execute(new DeleteAvatarCommand(actorOf(user)));
    return { success: true };
  }
}
