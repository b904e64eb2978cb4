import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor } from '../../../common/auth/ownership';
import { FileEntity } from '../entities/file.entity';
import { normalizeFolder } from '../file-paths';
import { FileRepository } from '../repositories/file.repository';

export interface FolderPage {
  folder: string;
  rows: FileEntity[];
  total: number;
}

/** One page of a folder of the caller's own tree: folders first, then files, by name. A folder that does not exist is empty. */
export class ListFilesQuery extends Query<FolderPage> {
  constructor(
    readonly actor: Actor,
    readonly path: string | undefined,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListFilesQuery)
export class ListFilesHandler implements IQueryHandler<ListFilesQuery> {
  constructor(private readonly files: FileRepository) {}

  async execute({ actor, path, page }: ListFilesQuery): Promise<FolderPage> {
    const folder = normalizeFolder(path);
    const { rows, total } = await this.files.listFolder({ userId: actor.userId, projectId: null }, folder, page);
    return { folder, rows, total };
  }
}
