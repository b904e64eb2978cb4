import { CommandBus, EventsHandler, IEventHandler } from '@nestjs/cqrs';
import { AppLogger } from '../../../common/logging/app-logger';
import { ExecutionFinishedEvent } from '../../execution/events/execution-finished.event';
import { CreateNotificationCommand } from '../commands/create-notification.command';

const LANGUAGE_NAMES: Record<string, string> = { python: 'Python', javascript: 'JavaScript' };

/** What happened to the run, as the end of "Your Python run …". */
const OUTCOMES: Record<string, string> = {
  success: 'finished',
  error: 'failed',
  timeout: 'timed out',
  memory_limit: 'ran out of memory',
  output_limit: 'was stopped: too much output',
  killed: 'was stopped',
  internal_error: 'could not finish (internal error)',
};

/**
 * A background run's end (ExecutionFinishedEvent, published on the replica
 * that ran it) becomes an `execution_finished` notification of its owner:
 * "Your Python run failed", body "Exit code 1 after 120 ms", data
 * {execution_id, status, language, exit_code, duration_ms}. Never throws: a
 * lost notification is logged, the run's result is stored regardless.
 */
@EventsHandler(ExecutionFinishedEvent)
export class ExecutionFinishedNotifier implements IEventHandler<ExecutionFinishedEvent> {
  constructor(
    private readonly commands: CommandBus,
    private readonly logger: AppLogger,
  ) {}

  async handle(event: ExecutionFinishedEvent): Promise<void> {
    try {
      const language = LANGUAGE_NAMES[event.language] ?? event.language;
      const title = `Your ${language} run ${OUTCOMES[event.status] ?? event.status}`;
      const parts = [event.exit_code === null ? '' : `Exit code ${event.exit_code}`, event.duration_ms === undefined ? '' : `${event.duration_ms} ms`];
      const body = parts[0] && parts[1] ? `${parts[0]} after ${parts[1]}` : parts.join('');
      await this.commands.execute(
        new CreateNotificationCommand(event.user_id, 'execution_finished', title, body, {
          execution_id: event.execution_id,
          status: event.status,
          language: event.language,
          exit_code: event.exit_code,
          duration_ms: event.duration_ms ?? null,
        }),
      );
    } catch (error) {
      this.logger.pino.warn({ err: error, execution_id: event.execution_id }, 'execution notification not written');
    }
  }
}
