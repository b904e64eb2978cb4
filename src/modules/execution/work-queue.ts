/** A run could not even wait: the queue is full. */
export class QueueFullError extends Error {}

/** A waiting run was cancelled before it got a slot. */
export class LeftQueueError extends Error {}

interface Waiting {
  userId: string;
  cap: number;
  admit: (release: () => void) => void;
  leave: (error: Error) => void;
}

/**
 * The worker pool's admission: at most `slots` runs at once, the rest wait in
 * FIFO order in a bounded queue. A user already at their plan's concurrency cap
 * is skipped (keeps their place) so one user cannot starve the others.
 */
export class WorkQueue {
  private running = 0;
  private readonly perUser = new Map<string, number>();
  private readonly waiting: Waiting[] = [];

  constructor(
    private readonly slots: number,
    private readonly capacity: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Whether a new run would be accepted now (a slot or a place in the queue). */
  get accepting(): boolean {
    return this.running < this.slots || this.waiting.length < this.capacity;
  }

  /**
   * Admits at once when a slot is free, nobody waits ahead and the user is
   * under their cap (the run can be stored as running straight away);
   * otherwise undefined and the caller uses enter().
   */
  tryEnter(userId: string, cap: number | null): (() => void) | undefined {
    if (this.waiting.length > 0 || this.running >= this.slots) return undefined;
    if ((this.perUser.get(userId) ?? 0) >= (cap ?? this.slots)) return undefined;
    let release: (() => void) | undefined;
    this.waiting.push({ userId, cap: cap ?? this.slots, admit: (r) => (release = r), leave: () => undefined });
    this.dispatch();
    return release;
  }

  /**
   * Resolves with `release` once the run may start; `release` must be called
   * when it ends. Aborting while waiting rejects with LeftQueueError.
   */
  enter(userId: string, cap: number | null, signal?: AbortSignal): Promise<() => void> {
    if (!this.accepting) return Promise.reject(new QueueFullError('the execution queue is full'));
    return new Promise((resolve, reject) => {
      const entry: Waiting = { userId, cap: cap ?? this.slots, admit: resolve, leave: reject };
      this.waiting.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.waiting.indexOf(entry);
          if (index === -1) return;
          this.waiting.splice(index, 1);
          entry.leave(new LeftQueueError('cancelled while queued'));
        },
        { once: true },
      );
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.slots; ) {
      const entry = this.waiting[i];
      const userRunning = this.perUser.get(entry.userId) ?? 0;
      if (userRunning >= entry.cap) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.running++;
      this.perUser.set(entry.userId, userRunning + 1);
      let released = false;
      entry.admit(() => {
        if (released) return;
        released = true;
        this.running--;
        const left = (this.perUser.get(entry.userId) ?? 1) - 1;
        if (left === 0) this.perUser.delete(entry.userId);
        else this.perUser.set(entry.userId, left);
        this.dispatch();
      });
    }
  }
}
