import { uuidv7 } from '../../../common/ids';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { FileEntity } from '../entities/file.entity';
import { joinPath, normalizeFolder, normalizeName } from '../file-paths';
import { FileRepository, isNameTaken, Tree } from '../repositories/file.repository';

/** Creates folder `name` in `path` of the caller's tree (missing parents too); 409 when the name is taken. */
export class MakeFolderCommand extends Command<FileEntity> {
  constructor(
    readonly actor: Actor,
    readonly path: string | undefined,
    readonly name: string,
  ) {
    super();
  }
}

@CommandHandler(MakeFolderCommand)
export class MakeFolderHandler implements ICommandHandler<MakeFolderCommand> {
  constructor(private readonly files: FileRepository) {}

  async execute({ actor, path, name: rawName }: MakeFolderCommand): Promise<FileEntity> {
    const parent = normalizeFolder(path);
    const name = normalizeName(rawName, 'folder name');
    const tree: Tree = { userId: actor.userId, projectId: null };
    const now = new Date();
    const row = Object.assign(new FileEntity(), { id: uuidv7(), ...tree, kind: 'folder', folder: parent, name, blobHash: null, size: 0, mimeType: null, createdAt: now, updatedAt: now });
    try {
      await this.files.transaction(async (manager) => {
        await this.files.ensureFolders(manager, tree, parent, now);
        await this.files.insert(manager, row);
      });
    } catch (error) {
      if (isNameTaken(error)) throw new AppError(ErrorCode.CONFLICT, `${joinPath(parent, name)} already exists`, { field: 'name' });
      throw error;
    }
    return row;
  }
}
