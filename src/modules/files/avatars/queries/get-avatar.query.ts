import type { Readable } from 'node:stream';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AppError } from '../../../../common/errors/app-error';
import { Blobs } from '../../storage/blobs';
import { AVATAR_FILENAME } from '../avatar-names';
import { AvatarRepository } from '../repositories/avatar.repository';

export interface AvatarContents {
  /** The blob's SHA-256: the same bytes for as long as the name exists, hence the ETag. */
  hash: string;
  size: number;
  mimeType: string;
  /** The bytes, opened only when they are to be sent (not for a 304). 404 if they are gone meanwhile (replaced). */
  open(): Promise<Readable>;
}

/** An avatar by the file name its owner's avatar_url names; anyone may read it. Any other name answers 404. */
export class GetAvatarQuery extends Query<AvatarContents> {
  constructor(readonly filename: string) {
    super();
  }
}

@QueryHandler(GetAvatarQuery)
export class GetAvatarHandler implements IQueryHandler<GetAvatarQuery> {
  constructor(
    private readonly avatars: AvatarRepository,
    private readonly blobs: Blobs,
  ) {}

  async execute({ filename }: GetAvatarQuery): Promise<AvatarContents> {
    const avatar = AVATAR_FILENAME.test(filename) ? await this.avatars.findByFilename(filename) : null;
    if (!avatar) throw AppError.notFound('Avatar');
    return {
      hash: avatar.blobHash,
      size: avatar.size,
      mimeType: avatar.mimeType,
      open: () => this.read(filename, avatar.blobHash),
    };
  }

  private async read(filename: string, hash: string): Promise<Readable> {
    try {
      return await this.blobs.read(hash);
    } catch (error) {
      // Replaced (and its bytes collected) since the lookup: gone, as if asked a moment later.
      // Otherwise the store failed, and that is no 404.
      const now = await this.avatars.findByFilename(filename);
      if (now?.blobHash !== hash) throw AppError.notFound('Avatar');
      throw error;
    }
  }
}
