import { Injectable } from '@nestjs/common';

/**
 * One pip run at a time per environment (pip is not safe to run twice on one
 * site-packages); different environments proceed in parallel. In-process: one
 * replica owns an environment's directory.
 */
@Injectable()
export class EnvironmentLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(environmentId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(environmentId) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    const tail = current.catch(() => undefined);
    this.tails.set(environmentId, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(environmentId) === tail) this.tails.delete(environmentId);
    }
  }
}
