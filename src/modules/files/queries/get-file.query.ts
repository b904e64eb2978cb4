import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { FileEntity } from '../entities/file.entity';
import { FileRepository } from '../repositories/file.repository';

/** A file (not a folder) the caller may read: their own; an admin, anyone's. Else 404. */
export class GetFileQuery extends Query<FileEntity> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@QueryHandler(GetFileQuery)
export class GetFileHandler implements IQueryHandler<GetFileQuery> {
  constructor(private readonly files: FileRepository) {}

  async execute({ actor, id }: GetFileQuery): Promise<FileEntity> {
    const file = await this.files.findById(id);
    if (!file || file.kind !== 'file' || !mayActOn(actor, file.userId)) throw AppError.notFound('File');
    return file;
  }
}
