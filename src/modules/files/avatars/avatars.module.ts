import { Module } from '@nestjs/common';
import { IdentityModule } from '../../identity/identity.module';
import { FilesModule } from '../files.module';
import { DeleteAvatarHandler } from './commands/delete-avatar.command';
import { UploadAvatarHandler } from './commands/upload-avatar.command';
import { AvatarsController } from './http/avatars.controller';
import { ProfileAvatarController } from './http/profile-avatar.controller';
import { GetAvatarHandler } from './queries/get-avatar.query';
import { AvatarRepository } from './repositories/avatar.repository';

/**
 * Avatars: an uploaded image re-encoded by the server, stored as a blob like
 * any file's contents (FilesModule's Blobs), served publicly by a name derived
 * from it. The user's avatar_url belongs to the identity context, which sets
 * it in the same transaction (SetAvatarUrlCommand).
 */
@Module({
  // Files: Blobs (storage); identity: SetAvatarUrlCommand.
  imports: [FilesModule, IdentityModule],
  controllers: [ProfileAvatarController, AvatarsController],
  providers: [AvatarRepository, UploadAvatarHandler, DeleteAvatarHandler, GetAvatarHandler],
})
export class AvatarsModule {}
