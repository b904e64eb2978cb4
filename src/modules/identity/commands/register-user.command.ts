import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { ClientInfo } from '../../../common/http/client-info';
import { UserEntity } from '../entities/user.entity';
import { PasswordHasher } from '../password-hasher';
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
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionIssuer,
  ) {}

  async execute(command: RegisterUserCommand): Promise<AuthResult> {
    const passwordHash = await this.hasher.hash(command.password);
    try {
      return await this.dataSource.transaction(async (manager) => {
        // The unique lower() indexes decide between concurrent registrations.
        const user = await manager.save(
          manager.create(UserEntity, { username: command.username, email: command.email, name: command.name ?? null, passwordHash }),
        );
        const tokens = await this.sessions.open(manager, user, command.client);
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
