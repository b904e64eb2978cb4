import { Readable, Writable } from 'node:stream';
import { BOOTSTRAP, PROTOCOL } from './python-runtime';
import { LauncherProcess, Sandbox, SpawnedLauncher } from './sandbox';

const { fds: FDS, frame_header: HEADER, frame_kinds: KIND } = PROTOCOL;
/** The sandbox fds the service writes (stdin, job); the others it reads. */
const TO_SANDBOX = new Set([FDS.stdin, FDS.job]);

export interface ZygoteStartOptions {
  /** bwrap and its arguments (with CAP_SYS_ADMIN in the sandbox's user namespace) around the command. */
  wrap: (command: string[]) => string[];
  pythonBinary: string;
  /** The zygote's runtime compiled by that interpreter (ZYGOTE_SOURCES, compileRuntime). */
  compiledZygote: Buffer;
  tmpfsBytes: number;
  uid?: number;
}

/**
 * One zygote process (runtime/zygote.py): a sandboxed interpreter that clones a
 * fresh sandbox per run. It holds one sandbox at a time, cloned ahead of its
 * job (the warm pool) or when a run needs it: its uid, and so its process limit
 * and memory cgroup, belong to that run. Its relay (runtime/relay.py) carries
 * every sandbox's pipes in frames on fds 3 and 4 (runtime/protocol.json).
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
    const command = [options.pythonBinary, '-I', '-c', BOOTSTRAP, String(options.tmpfsBytes)];
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
    this.send(KIND.start, id);
    if (!this.alive) launcher.gone();
    return new Sandbox(launcher);
  }

  /** Kills the zygote and with it every sandbox it made. */
  destroy(): Promise<void> {
    this.process.kill();
    return this.process.closed;
  }

  /** A frame for the relay (see runtime/protocol.json). */
  private send(kind: string, id: number, payload: Buffer = Buffer.alloc(0)): void {
    if (!this.alive) return;
    const header = Buffer.alloc(HEADER.bytes);
    header.write(kind, 0, 'latin1');
    header.writeUInt32LE(id, HEADER.id_at);
    header.writeUInt32LE(payload.length, HEADER.length_at);
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
    while (this.pending.length >= HEADER.bytes) {
      const length = this.pending.readUInt32LE(HEADER.length_at);
      if (this.pending.length < HEADER.bytes + length) return;
      const kind = String.fromCharCode(this.pending[0]);
      const id = this.pending.readUInt32LE(HEADER.id_at);
      const payload = this.pending.subarray(HEADER.bytes, HEADER.bytes + length);
      this.pending = this.pending.subarray(HEADER.bytes + length);
      if (kind === KIND.ready) {
        this.onReady();
        continue;
      }
      const sandbox = this.sandboxes.get(id);
      if (!sandbox) continue;
      if (kind === KIND.data) sandbox.data(payload[0], payload.subarray(1));
      else if (kind === KIND.end) sandbox.end(payload[0]);
      else if (kind === KIND.gone) {
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

  constructor(private readonly id: number, private readonly send: (kind: string, payload?: Buffer) => void) {
    const writer = (fd: number) =>
      new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          if (!this.isGone) this.send(KIND.data, Buffer.concat([Buffer.from([fd]), chunk]));
          done();
        },
        final: (done) => {
          if (!this.isGone) this.send(KIND.end, Buffer.from([fd]));
          done();
        },
      });
    const reader = () => new Readable({ read: () => undefined });
    this.stdio = [writer(FDS.stdin), reader(), reader(), writer(FDS.job), reader()];
    this.closed = new Promise((resolve) => (this.onGone = resolve));
  }

  get alive(): boolean {
    return !this.isGone;
  }

  kill(): void {
    if (!this.isGone) this.send(KIND.kill);
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
    for (const fd of [FDS.stdout, FDS.stderr, FDS.report]) (this.stdio[fd] as Readable).push(null);
    // After the data already pushed has reached its listeners.
    setImmediate(() => this.onGone());
  }
}
