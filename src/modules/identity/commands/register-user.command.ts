import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { ClientInfo } from '../../../common/http/client-info';
import { PasswordHasher } from '../password-hasher';
import { UserRepository } from '../repositories/user.repository';
import { SessionIssuer } from '../session-issuer';
import { IssuedTokens } from '../token.service';
import { duplicateUserField, toUserView, UserView } from '../user.mapper';

export interface AuthResult {
  user: UserView;
  tokens: IssuedTokens;
}

export class RegisterUserCommand extends Command<AuthResult> {
  constructor(
    readonly username: string,
    readonly email: string,
    readonly password: string,
    readonly name: string | undefined,
    readonly client: ClientInfo,
  ) {
    super();
  }
}

@CommandHandler(RegisterUserCommand)
export class RegisterUserHandler implements ICommandHandler<RegisterUserCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionIssuer,
  ) {}

  async execute(command: RegisterUserCommand): Promise<AuthResult> {
    const passwordHash = await this.hasher.hash(command.password);
    try {
      return await this.dataSource.transaction(async (manager) => {
        // The unique lower() indexes decide between concurrent registrations.
        const user = await this.users.insert(
          { username: command.username, email: command.email, name: command.name ?? null, passwordHash },
          manager,
        );
        const tokens = await this.sessions.open(user, command.client, manager);
        user.lastLoginAt = new Date();
        return { user: toUserView(user), tokens };
      });
    } catch (error) {
      const field = duplicateUserField(error);
      if (field) throw AppError.conflict(`This ${field} is already taken`, { field });
      throw error;
    }
  }
}
