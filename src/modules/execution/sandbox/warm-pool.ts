import type { Language, Sandbox } from './sandbox';

/**
 * Bubblewrap sandboxes started ahead of their runs, `size` per language, used
 * when there are no zygotes: a run then does not wait for bubblewrap and an
 * interpreter to start. Each serves one run and is destroyed.
 */
export class WarmPool {
  private readonly waiting = new Map<Language, Sandbox[]>([
    ['python', []],
    ['javascript', []],
  ]);

  constructor(private readonly size: number) {}

  /** Waiting sandboxes still ready for a job. */
  get ready(): number {
    let count = 0;
    for (const list of this.waiting.values()) count += list.filter((sandbox) => sandbox.ready).length;
    return count;
  }

  /** A waiting sandbox still ready for its job; those that died meanwhile go to `discard`. */
  take(language: Language, discard: (sandbox: Sandbox) => void): Sandbox | undefined {
    const list = this.waiting.get(language)!;
    while (list.length > 0) {
      const candidate = list.shift()!;
      if (candidate.ready) return candidate;
      discard(candidate);
    }
    return undefined;
  }

  /** Starts sandboxes until every language has `size` waiting, or until `spawn` has none to give. */
  fill(spawn: () => Sandbox | undefined): void {
    for (const list of this.waiting.values()) {
      while (list.length < this.size) {
        const sandbox = spawn();
        if (!sandbox) return;
        list.push(sandbox);
      }
    }
  }

  /** Every waiting sandbox, taken out of the pool (for the caller to destroy). */
  drain(): Sandbox[] {
    const all = [...this.waiting.values()].flat();
    this.waiting.forEach((list) => list.splice(0));
    return all;
  }
}
