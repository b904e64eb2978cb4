import { Inject, Injectable } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

@Injectable()
export class PasswordHasher {
  /** Compared against when the user does not exist, so timing does not reveal it. */
  private readonly dummyHash: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.dummyHash = bcrypt.hashSync('not-a-real-password', config.auth.bcryptRounds);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.config.auth.bcryptRounds);
  }

  verify(password: string, hash: string | undefined): Promise<boolean> {
    return bcrypt.compare(password, hash ?? this.dummyHash);
  }
}
