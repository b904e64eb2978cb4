import { Readable, Writable } from 'node:stream';
import { LAUNCHER_BOOTSTRAP } from './launcher.source';
import { LauncherProcess, Sandbox, SpawnedLauncher } from './sandbox';

const HEADER_BYTES = 9;
/** The sandbox fds the service writes (stdin, job); the others it reads. */
const TO_SANDBOX = new Set([0, 3]);

export interface ZygoteStartOptions {
  /** bwrap and its arguments (with CAP_SYS_ADMIN in the sandbox's user namespace) around the command. */
  wrap: (command: string[]) => string[];
  pythonBinary: string;
  /** ZYGOTE_SOURCE compiled by that interpreter (compileLauncher). */
  compiledZygote: Buffer;
  tmpfsBytes: number;
  uid?: number;
}

/**
 * One zygote process (zygote.source.ts): a sandboxed interpreter that clones a
 * fresh sandbox per run. It holds one sandbox at a time, cloned ahead of its
 * job (the warm pool) or when a run needs it: its uid, and so its process limit
 * and memory cgroup, belong to that run.
 */
export class Zygote {
  private readonly process: SpawnedLauncher;
  private readonly sandboxes = new Map<number, RelayedLauncher>();
  private nextId = 1;
  private pending: Buffer = Buffer.alloc(0);
  private onReady: () => void = () => undefined;
  /** Resolves when the zygote is ready to clone; rejects if it died first. */
  readonly ready: Promise<void>;

  constructor(options: ZygoteStartOptions) {
    const command = [options.pythonBinary, '-I', '-c', LAUNCHER_BOOTSTRAP, String(options.tmpfsBytes)];
    this.process = new SpawnedLauncher(options.wrap(command), { uid: options.uid });
    this.process.stdio[3].write(options.compiledZygote);
    let diagnostics = '';
    this.process.stdio[2].on('data', (chunk: Buffer) => (diagnostics = (diagnostics + chunk.toString()).slice(-2000)));
    this.ready = new Promise((resolve, reject) => {
      this.onReady = resolve;
      void this.process.closed.then(() => reject(new Error(`the zygote exited: ${diagnostics.trim() || this.process.error?.message || 'no message'}`)));
    });
    // Never left unhandled: whoever waits for it sees the rejection.
    this.ready.catch(() => undefined);
    this.process.stdio[4].on('data', (chunk: Buffer) => this.receive(chunk));
    void this.process.closed.then(() => {
      for (const sandbox of this.sandboxes.values()) sandbox.gone();
      this.sandboxes.clear();
    });
  }

  get alive(): boolean {
    return this.process.alive;
  }

  /** Host pids of the zygote's processes (bwrap, its pid 1, the process it started, the relay, the zygote): its sandboxes are made by them. */
  processIds(): number[] {
    return this.process.processIds();
  }

  /** A new sandbox, cloned now; it is ready for its job once `launched` resolves. */
  startSandbox(): Sandbox {
    const id = this.nextId++;
    const launcher = new RelayedLauncher(id, (kind, payload) => this.send(kind, id, payload));
    this.sandboxes.set(id, launcher);
    this.send('S', id);
    if (!this.alive) launcher.gone();
    return new Sandbox(launcher);
  }

  /** Kills the zygote and with it every sandbox it made. */
  destroy(): Promise<void> {
    this.process.kill();
    return this.process.closed;
  }

  private send(kind: 'S' | 'D' | 'E' | 'K', id: number, payload: Buffer = Buffer.alloc(0)): void {
    if (!this.alive) return;
    const header = Buffer.alloc(HEADER_BYTES);
    header.write(kind, 0, 'latin1');
    header.writeUInt32LE(id, 1);
    header.writeUInt32LE(payload.length, 5);
    // The frames of one turn of the event loop (a job, its end, its stdin) go in one write.
    const channel = this.process.stdio[3];
    if (!channel.writableCorked) {
      channel.cork();
      process.nextTick(() => channel.uncork());
    }
    channel.write(payload.length > 0 ? Buffer.concat([header, payload]) : header);
  }

  private receive(chunk: Buffer): void {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= HEADER_BYTES) {
      const length = this.pending.readUInt32LE(5);
      if (this.pending.length < HEADER_BYTES + length) return;
      const kind = String.fromCharCode(this.pending[0]);
      const id = this.pending.readUInt32LE(1);
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
      this.pending = this.pending.subarray(HEADER_BYTES + length);
      if (kind === 'Z') {
        this.onReady();
        continue;
      }
      const sandbox = this.sandboxes.get(id);
      if (!sandbox) continue;
      if (kind === 'D') sandbox.data(payload[0], payload.subarray(1));
      else if (kind === 'E') sandbox.end(payload[0]);
      else if (kind === 'X') {
        this.sandboxes.delete(id);
        sandbox.gone();
      }
    }
  }
}

/** A sandbox a zygote cloned: its five pipes, relayed by the zygote as frames. */
class RelayedLauncher implements LauncherProcess {
  readonly stdio: LauncherProcess['stdio'];
  readonly closed: Promise<void>;
  private isGone = false;
  private onGone: () => void = () => undefined;

  constructor(private readonly id: number, private readonly send: (kind: 'D' | 'E' | 'K', payload?: Buffer) => void) {
    const writer = (fd: number) =>
      new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          if (!this.isGone) this.send('D', Buffer.concat([Buffer.from([fd]), chunk]));
          done();
        },
        final: (done) => {
          if (!this.isGone) this.send('E', Buffer.from([fd]));
          done();
        },
      });
    const reader = () => new Readable({ read: () => undefined });
    this.stdio = [writer(0), reader(), reader(), writer(3), reader()];
    this.closed = new Promise((resolve) => (this.onGone = resolve));
  }

  get alive(): boolean {
    return !this.isGone;
  }

  kill(): void {
    if (!this.isGone) this.send('K');
  }

  /** Its processes are the zygote's children: they are already in the zygote's memory cgroup. */
  processIds(): number[] {
    return [];
  }

  data(fd: number, bytes: Buffer): void {
    if (!TO_SANDBOX.has(fd)) (this.stdio[fd] as Readable).push(bytes);
  }

  end(fd: number): void {
    if (!TO_SANDBOX.has(fd)) (this.stdio[fd] as Readable).push(null);
  }

  /** Every process of the sandbox is gone (or the zygote is). */
  gone(): void {
    if (this.isGone) return;
    this.isGone = true;
    // push(null) on a stream already ended does nothing.
    for (const fd of [1, 2, 4]) (this.stdio[fd] as Readable).push(null);
    // After the data already pushed has reached its listeners.
    setImmediate(() => this.onGone());
  }
}
