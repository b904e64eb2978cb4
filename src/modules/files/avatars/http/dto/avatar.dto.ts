import { ApiBodyOptions, ApiProperty } from '@nestjs/swagger';

export class AvatarResponse {
  @ApiProperty({
    example: '/api/v1/avatars/3f2a9c4e5b6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b.webp',
    description: 'Where the new avatar is served (also the avatar_url of GET /users/me)',
  })
  avatar_url!: string;
}

export class AvatarDeletedResponse {
  @ApiProperty({ example: true }) success!: boolean;
}

/** The multipart body of POST /profile/upload-avatar, for Swagger UI's file picker. */
export const AVATAR_UPLOAD_BODY: ApiBodyOptions = {
  schema: {
    type: 'object',
    required: ['avatar'],
    properties: {
      avatar: { type: 'string', format: 'binary', description: 'A PNG, JPEG, WebP or GIF image of at most 2 MB (also accepted as the part "file")' },
    },
  },
};
