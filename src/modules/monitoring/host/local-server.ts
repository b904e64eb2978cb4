import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { release, type } from 'node:os';
import { uuidv7 } from '../../../common/ids';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { ServerRepository } from '../repositories/server.repository';

/**
 * The platform's own host as server `local`: registered at start-up, once
 * whatever the number of replicas or restarts (a unique index on is_local;
 * a restart refreshes its os). It has no owner (user_id NULL): admins see,
 * change and monitor it (the ownership rule lets an admin act on anything),
 * users never see it. Its host is 127.0.0.1 and its port the API's (3000
 * when PORT=0 picks one at random), so monitoring it probes the API itself.
 */
@Injectable()
export class LocalServer implements OnApplicationBootstrap {
  private registered?: Promise<string>;

  constructor(
    private readonly servers: ServerRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.id();
  }

  /** Its id (registering it the first time). */
  id(): Promise<string> {
    this.registered ??= this.servers
      .ensureLocal({ id: uuidv7(), host: '127.0.0.1', port: this.config.port || 3000, os: `${type()} ${release()}`.slice(0, 100) })
      .catch((error: unknown) => {
        this.registered = undefined;
        throw error;
      });
    return this.registered;
  }
}
