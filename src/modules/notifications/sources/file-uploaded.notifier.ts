import { CommandBus, EventsHandler, IEventHandler } from '@nestjs/cqrs';
import { AppLogger } from '../../../common/logging/app-logger';
import { FileUploadedEvent } from '../../files/events/file-uploaded.event';
import { CreateNotificationCommand } from '../commands/create-notification.command';
import { clip } from '../plain-text';

/** File names are cut to this in the title (a name may be 255 characters). */
const NAME_CHARS = 150;

/**
 * Each stored file (FileUploadedEvent, published on this replica only) becomes
 * a `file_upload` notification of its owner: "report.csv uploaded", data
 * {file_id, filename, path, size, project_id}. Never throws: a lost
 * notification is logged, the upload stands.
 */
@EventsHandler(FileUploadedEvent)
export class FileUploadedNotifier implements IEventHandler<FileUploadedEvent> {
  constructor(
    private readonly commands: CommandBus,
    private readonly logger: AppLogger,
  ) {}

  async handle(event: FileUploadedEvent): Promise<void> {
    try {
      await this.commands.execute(
        new CreateNotificationCommand(event.user_id, 'file_upload', `${clip(event.filename, NAME_CHARS)} uploaded`, '', {
          file_id: event.file_id,
          filename: event.filename,
          path: event.path,
          size: event.size,
          project_id: event.project_id,
        }),
      );
    } catch (error) {
      this.logger.pino.warn({ err: error, file_id: event.file_id }, 'file upload notification not written');
    }
  }
}
