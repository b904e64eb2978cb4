import { Inject } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { AppError } from '../../../common/errors/app-error';
import { AppLogger } from '../../../common/logging/app-logger';
import { UserRepository } from '../repositories/user.repository';
import { CreateUserCommand } from './create-user.command';

/**
 * Run at start: when no admin exists, create one from ADMIN_USERNAME and
 * ADMIN_PASSWORD, or with a generated password printed once.
 */
export class EnsureFirstAdminCommand extends Command<void> {}

@CommandHandler(EnsureFirstAdminCommand)
export class EnsureFirstAdminHandler implements ICommandHandler<EnsureFirstAdminCommand> {
  constructor(
    private readonly users: UserRepository,
    private readonly commands: CommandBus,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute(): Promise<void> {
    const admins = await this.users.countAdmins();
    if (admins > 0) return;
    const { adminUsername, adminEmail } = this.config.auth;
    const generated = this.config.auth.adminPassword === undefined;
    const password = this.config.auth.adminPassword ?? randomBytes(12).toString('base64url');
    try {
      await this.commands.execute(
        new CreateUserCommand({ username: adminUsername, email: adminEmail, password, role: 'admin', level: 'enterprise', email_verified: true }),
      );
    } catch (error) {
      // Another replica created it first, or the name is taken by a normal user.
      if (error instanceof AppError) {
        this.logger.warn(`First admin "${adminUsername}" not created: ${error.message}`, 'Identity');
        return;
      }
      throw error;
    }
    if (generated) {
      // Printed once, framed: it must not be lost among the log lines.
      this.logger.banner([
        'First admin created',
        `  username: ${adminUsername}`,
        `  password: ${password}`,
        'Change it after logging in; it is not shown again.',
      ]);
    } else {
      this.logger.log(`First admin "${adminUsername}" created`, 'Identity');
    }
  }
}
