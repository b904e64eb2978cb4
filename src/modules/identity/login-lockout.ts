import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { UserRepository } from './repositories/user.repository';

/**
 * Five failed logins within 15 minutes lock an account for 15 minutes. The count
 * lives on the user row and is changed by one atomic UPDATE, so it stays exact
 * across concurrent attempts and replicas. Separate from the rate limiter.
 */
@Injectable()
export class LoginLockout {
  constructor(
    private readonly users: UserRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  assertNotLocked(lockedUntil: Date | null): void {
    const remainingMs = lockedUntil ? lockedUntil.getTime() - Date.now() : 0;
    if (remainingMs > 0) {
      const retryAfter = Math.ceil(remainingMs / 1000);
      throw new AppError(
        ErrorCode.RATE_LIMITED,
        'Too many failed logins; this account is locked for a while',
        { retry_after: retryAfter, locked_until: lockedUntil!.toISOString() },
        { 'Retry-After': String(retryAfter) },
      );
    }
  }

  async recordFailure(userId: string): Promise<void> {
    const { lockoutAttempts, lockoutWindowSeconds } = this.config.auth;
    await this.users.recordFailedLogin(userId, lockoutWindowSeconds, lockoutAttempts);
  }
}
