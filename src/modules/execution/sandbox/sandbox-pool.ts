import { ChildProcess, fork } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppLogger } from '../../../common/logging/app-logger';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import type { FromHost, ToHost } from './host-protocol';
import { internalErrorOutcome, RunHooks, RunOutcome, SandboxJob } from './sandbox';
import type { RuntimeVersion, SandboxStatus } from './sandbox-fleet';

export type { RuntimeVersion, SandboxStatus };

interface Pending {
  resolve: (outcome: RunOutcome) => void;
  hooks: RunHooks;
}

/**
 * Where the API runs code: a client of the sandbox host process
 * (sandbox-host.ts), which keeps the warm pool and spawns the sandboxes. If the
 * host dies, its runs end as internal_error and a new host is started.
 */
@Injectable()
export class SandboxPool implements OnModuleInit, OnApplicationShutdown {
  private host?: ChildProcess;
  private statusValue: SandboxStatus = { mechanism: 'unavailable', message: 'starting' };
  private versions: RuntimeVersion[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly statsWaiting = new Map<number, (warmSandboxes: number | null) => void>();
  private nextId = 1;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  get status(): SandboxStatus {
    return this.statusValue;
  }

  get runtimes(): RuntimeVersion[] {
    return this.versions;
  }

  async onModuleInit(): Promise<void> {
    await this.startHost();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const host = this.host;
    if (!host?.connected) return;
    const exited = new Promise((done) => host.once('exit', done));
    this.post({ type: 'stop' });
    await Promise.race([exited, new Promise((done) => setTimeout(done, 5000).unref())]);
    host.kill('SIGKILL');
  }

  run(job: SandboxJob, hooks: RunHooks = {}): Promise<RunOutcome> {
    const id = this.nextId++;
    return new Promise((resolveRun) => {
      this.pending.set(id, { resolve: resolveRun, hooks });
      const cancel = () => this.post({ type: 'cancel', id });
      if (hooks.signal?.aborted) cancel();
      hooks.signal?.addEventListener('abort', cancel, { once: true });
      if (!this.post({ type: 'run', id, job })) this.settle(id, internalErrorOutcome('the sandbox host is not running'));
    });
  }

  /** Sandboxes ready for a run in the sandbox host now; null when it does not answer within a second. */
  warmSandboxes(): Promise<number | null> {
    const id = this.nextId++;
    return new Promise((answer) => {
      const timer = setTimeout(() => settle(null), 1000).unref();
      const settle = (count: number | null) => {
        clearTimeout(timer);
        this.statsWaiting.delete(id);
        answer(count);
      };
      this.statsWaiting.set(id, settle);
      if (!this.post({ type: 'stats', id })) settle(null);
    });
  }

  private startHost(): Promise<void> {
    const { script, execArgv } = hostEntry();
    const host = fork(script, [], { execArgv, env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, serialization: 'advanced' });
    this.host = host;
    return new Promise((ready) => {
      host.on('message', (message: FromHost) => {
        if (message.type === 'started') {
          this.statusValue = message.status;
          this.versions = message.runtimes;
          ready();
        } else this.onMessage(message);
      });
      host.on('exit', (code, signal) => {
        for (const id of [...this.pending.keys()]) this.settle(id, internalErrorOutcome(`the sandbox host exited (${signal ?? code})`));
        if (this.stopping) return;
        this.logger.error(`sandbox host exited (${signal ?? code}); starting a new one`);
        this.statusValue = { mechanism: 'unavailable', message: 'the sandbox host is restarting' };
        setTimeout(() => void this.startHost(), 500).unref();
        ready();
      });
      this.post({ type: 'start', options: this.config.execution });
    });
  }

  private onMessage(message: FromHost): void {
    if (message.type === 'output') this.pending.get(message.id)?.hooks.onOutput?.(message.stream, message.text);
    else if (message.type === 'outcome') this.settle(message.id, message.outcome);
    else if (message.type === 'stats') this.statsWaiting.get(message.id)?.(message.warmSandboxes);
    else if (message.type === 'warning') this.logger.warn(message.message);
  }

  private settle(id: number, outcome: RunOutcome): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    pending.resolve(outcome);
  }

  private post(message: ToHost): boolean {
    if (!this.host?.connected) return false;
    this.host.send(message);
    return true;
  }
}

/** The host script: compiled JavaScript, or (tests run the sources) TypeScript through a require hook. */
function hostEntry(): { script: string; execArgv: string[] } {
  if (__filename.endsWith('.ts')) {
    const root = resolve(__dirname, '..', '..', '..', '..');
    return { script: join(__dirname, 'sandbox-host.ts'), execArgv: ['-r', join(root, 'scripts', 'register-ts.cjs')] };
  }
  return { script: join(__dirname, 'sandbox-host.js'), execArgv: [] };
}
