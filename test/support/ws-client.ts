import WebSocket from 'ws';

export interface WsMessage {
  type: string;
  channel?: string;
  payload?: any;
}

/**
 * A WebSocket client for the tests: every message it receives is kept, in
 * order; `next` waits for the first unread one that matches, `closed` resolves
 * with the close code and reason.
 */
export class WsClient {
  readonly received: WsMessage[] = [];
  private read = 0;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Set when the server answered the upgrade with an HTTP status instead. */
  refusedWith?: number;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as WsMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('unexpected-response', (_request, response) => {
      this.refusedWith = response.statusCode;
      ws.terminate();
    });
    ws.on('error', () => undefined);
  }

  /** `url` is the app's http URL; `path` includes any query. */
  static connect(url: string, path: string): WsClient {
    return new WsClient(new WebSocket(`${url.replace(/^http/, 'ws')}${path}`));
  }

  async opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return;
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error(`closed before opening${this.refusedWith ? ` (HTTP ${this.refusedWith})` : ''}`)));
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next unread message matching `match` (messages before it are marked read). */
  async next(match: (message: WsMessage) => boolean = () => true, timeoutMs = 5000): Promise<WsMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.read < this.received.length) {
        const message = this.received[this.read++];
        if (match(message)) return message;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; received ${JSON.stringify(this.received.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next message of this type (and channel, when given). */
  nextOfType(type: string, channel?: string, timeoutMs?: number): Promise<WsMessage> {
    return this.next((m) => m.type === type && (channel === undefined || m.channel === channel), timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}
