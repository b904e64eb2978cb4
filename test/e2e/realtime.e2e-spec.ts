import { EventBus } from '@nestjs/cqrs';
import { notificationsChannelOf, RealtimeEvent } from '../../src/common/events/realtime-event';
import { expectError } from '../support/expectations';
import { canConnect } from '../support/net';
import { TestApp } from '../support/test-app';
import { WsClient } from '../support/ws-client';

/**
 * The WebSocket gateway against the started app, over real sockets:
 * authentication (?token=, an auth message, the timeout, bad and revoked
 * credentials), channels and their authorization, malformed and oversized
 * messages, the per-user cap, slow consumers, delivery across two replicas
 * on one database, the convenience paths and GET /admin/realtime.
 */

jest.setTimeout(60_000);

type User = Awaited<ReturnType<TestApp['registerUser']>>;

describe('Realtime WebSocket gateway', () => {
  let app: TestApp;
  let alice: User;
  let bob: User;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    app = await TestApp.start({
      REALTIME_AUTH_TIMEOUT_MS: '400',
      REALTIME_MAX_CONNECTIONS_PER_USER: '3',
      REALTIME_MAX_MESSAGE_BYTES: '4096',
      REALTIME_MAX_BUFFERED_BYTES: '65536',
      REALTIME_PING_INTERVAL_MS: '60000',
    });
    [alice, bob] = [await app.registerUser(), await app.registerUser()];
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await app?.stop();
  });

  function connect(path: string, on = app): WsClient {
    const client = WsClient.connect(on.url, path);
    clients.push(client);
    return client;
  }

  /** A socket of this user, authenticated by ?token= and subscribed to these channels. */
  async function socketOf(user: { token: string }, channels: string[] = [], on = app): Promise<WsClient> {
    const client = connect(`/api/v1/ws?token=${encodeURIComponent(user.token)}`, on);
    await client.nextOfType('authenticated');
    for (const channel of channels) {
      client.send({ type: 'subscribe', channel });
      await client.nextOfType('subscribed', channel);
    }
    return client;
  }

  const publish = (channel: string, type: RealtimeEvent['type'], payload: unknown, on = app) =>
    on.running.app.get(EventBus).publish(new RealtimeEvent(channel, type, payload));

  describe('authentication', () => {
    it('accepts a JWT or an API key in ?token=, and says who it is', async () => {
      const client = connect(`/api/v1/ws?token=${alice.token}`);
      expect((await client.nextOfType('authenticated')).payload).toEqual({ user_id: alice.id, username: alice.username });
      const key = (await app.post('/api-keys', { name: 'ws', scopes: ['execute'] }, { token: alice.token })).body.key;
      const byKey = connect(`/api/v1/ws?token=${key}`);
      expect((await byKey.nextOfType('authenticated')).payload.user_id).toBe(alice.id);
    });

    it('accepts a first auth message, and handles the subscribe sent right behind it', async () => {
      const client = connect('/api/v1/ws');
      await client.opened();
      client.send({ type: 'auth', token: bob.token });
      client.send({ type: 'subscribe', channel: 'notifications' });
      await client.nextOfType('authenticated');
      expect(await client.nextOfType('subscribed')).toEqual({ type: 'subscribed', channel: 'notifications' });
    });

    it.each([
      ['a bad token in the query', '/api/v1/ws?token=not-a-token', undefined],
      ['a bad API key in the query', `/api/v1/ws?token=sk-${'x'.repeat(48)}`, undefined],
      ['a bad token in the auth message', '/api/v1/ws', { type: 'auth', token: 'nope' }],
      ['another message before authenticating', '/api/v1/ws', { type: 'subscribe', channel: 'notifications' }],
      ['malformed JSON before authenticating', '/api/v1/ws', '{"type":'],
    ])('closes with 4401 on %s', async (_what, path, first) => {
      const client = connect(path);
      if (first !== undefined) {
        await client.opened();
        client.send(first);
      }
      expect((await client.closed).code).toBe(4401);
      expect(client.received.filter((m) => m.type === 'authenticated')).toEqual([]);
    });

    it('closes with 4401 when no credentials come within the auth timeout', async () => {
      const client = connect('/api/v1/ws');
      const started = Date.now();
      const { code, reason } = await client.closed;
      expect(code).toBe(4401);
      expect(reason).toMatch(/token|auth/i);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('closes the sockets of a session that logs out, and of an API key deleted, within seconds', async () => {
      const carol = await app.registerUser();
      const session = await socketOf(carol);
      const keyResponse = await app.post('/api-keys', { name: 'ws', scopes: ['execute'] }, { token: carol.token });
      const byKey = connect(`/api/v1/ws?token=${keyResponse.body.key}`);
      await byKey.nextOfType('authenticated');
      expect((await app.delete(`/api-keys/${keyResponse.body.id}`, { token: carol.token })).status).toBe(200);
      expect((await byKey.closed).code).toBe(4401);
      // The session's socket is still fine; logging out closes it.
      session.send({ type: 'ping' });
      await session.nextOfType('pong');
      expect((await app.post('/auth/logout', undefined, { token: carol.token })).status).toBeLessThan(300);
      expect((await session.closed).code).toBe(4401);
    });

    it('closes the sockets beyond the per-user cap with 4429', async () => {
      const dave = await app.registerUser();
      for (let i = 0; i < 3; i++) await socketOf(dave);
      const fourth = connect(`/api/v1/ws?token=${dave.token}`);
      expect((await fourth.closed).code).toBe(4429);
      // Another user is not affected.
      await socketOf(bob);
    });

    it('refuses an upgrade on a path it does not serve with 404', async () => {
      const client = connect('/api/v1/nowhere');
      await client.closed;
      expect(client.refusedWith).toBe(404);
    });
  });

  describe('channels and messages', () => {
    it('delivers a user\'s notifications to that user only, named `notifications`', async () => {
      const mine = await socketOf(alice, ['notifications']);
      const theirs = await socketOf(bob, ['notifications']);
      publish(notificationsChannelOf(alice.id), 'notification', { id: 'n1', title: 'hello' });
      expect(await mine.nextOfType('notification')).toEqual({ type: 'notification', channel: 'notifications', payload: { id: 'n1', title: 'hello' } });
      publish(notificationsChannelOf(bob.id), 'notification', { id: 'n2' });
      expect((await theirs.nextOfType('notification')).payload).toEqual({ id: 'n2' });
      expect(mine.received.filter((m) => m.type === 'notification')).toHaveLength(1);
    });

    it('delivers a notification live as GET /notifications lists it (a follow)', async () => {
      const followed = await app.registerUser();
      const client = await socketOf(followed, ['notifications']);
      expect((await app.post(`/community/follow/${followed.id}`, undefined, { token: alice.token })).status).toBeLessThan(300);
      const live = await client.nextOfType('notification');
      const listed = (await app.get('/notifications', { token: followed.token })).body.notifications;
      expect(listed).toHaveLength(1);
      expect(live).toEqual({ type: 'notification', channel: 'notifications', payload: listed[0] });
      expect(live.payload).toMatchObject({ type: 'follow', read_at: null, data: { actor_id: alice.id } });
    });

    it('lets the owner (and an admin) watch a run, answers error for anyone else\'s, unknown and not-yet channels', async () => {
      const run = await app.post('/execute', { code: 'print(1)', language: 'python' }, { token: alice.token });
      expect(run.status).toBe(200);
      const channel = `execution:${run.body.execution_id ?? run.body.id}`;
      await socketOf(alice, [channel]);
      await socketOf({ token: await app.adminToken() }, [channel]);

      const other = await socketOf(bob);
      for (const [name, code] of [
        [channel, 'FORBIDDEN'],
        ['execution:00000000-0000-4000-8000-000000000000', 'FORBIDDEN'],
        ['execution:not-a-uuid', 'FORBIDDEN'],
        ['nothing:1', 'UNKNOWN_CHANNEL'],
        ['notifications:someone', 'UNKNOWN_CHANNEL'],
        ['deployment:00000000-0000-4000-8000-000000000000', 'FORBIDDEN'],
      ] as const) {
        other.send({ type: 'subscribe', channel: name });
        const answer = await other.nextOfType('error');
        expect([name, answer.channel, answer.payload.code]).toEqual([name, name, code]);
      }
      other.send({ type: 'subscribe', channel: 'x'.repeat(201) });
      expect((await other.nextOfType('error')).payload.code).toBe('BAD_MESSAGE');
      // No data of the refused channel reaches it.
      publish(channel, 'log', { stream: 'stdout', data: 'secret' });
      other.send({ type: 'ping' });
      await other.nextOfType('pong');
      expect(other.received.filter((m) => m.type === 'log')).toEqual([]);
    });

    it('streams a background run\'s output and its end on execution:<id>', async () => {
      const started = await app.post('/execute?wait=false', { code: 'import time\ntime.sleep(0.8)\nprint("hello")\nprint("bye")', language: 'python' }, { token: alice.token });
      expect(started.status).toBe(202);
      const id = started.body.execution_id ?? started.body.id;
      const client = await socketOf(alice, [`execution:${id}`]);
      const update = await client.nextOfType('update', `execution:${id}`, 20_000);
      expect(update.payload).toMatchObject({ status: 'success', exit_code: 0 });
      const logs = client.received.filter((m) => m.type === 'log');
      expect(logs.every((m) => m.channel === `execution:${id}` && m.payload.stream === 'stdout')).toBe(true);
      expect(logs.map((m) => m.payload.data).join('')).toBe('hello\nbye\n');
    });

    it('refuses an API key without the channel\'s scope', async () => {
      const run = await app.post('/execute', { code: 'print(1)', language: 'python' }, { token: bob.token });
      const key = (await app.post('/api-keys', { name: 'profile only', scopes: ['profile:read'] }, { token: bob.token })).body.key;
      const client = connect(`/api/v1/ws?token=${key}`);
      await client.nextOfType('authenticated');
      client.send({ type: 'subscribe', channel: `execution:${run.body.execution_id ?? run.body.id}` });
      expect((await client.nextOfType('error')).payload).toEqual({ code: 'FORBIDDEN', message: 'The API key lacks the scope execute' });
      client.send({ type: 'subscribe', channel: 'notifications' });
      await client.nextOfType('subscribed');
    });

    it('answers malformed messages with error and stays open; unsubscribes', async () => {
      const client = await socketOf(alice, ['notifications']);
      for (const bad of ['{"type":', '[]', '42', '"text"', JSON.stringify({ type: 'dance' }), JSON.stringify({ channel: 'x' }), JSON.stringify({ type: 'subscribe' })]) {
        client.send(bad);
        const answer = await client.nextOfType('error');
        expect(['BAD_MESSAGE']).toContain(answer.payload.code);
      }
      client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      expect((await client.nextOfType('error')).payload.code).toBe('BAD_MESSAGE');
      client.send({ type: 'unsubscribe', channel: 'notifications' });
      await client.nextOfType('unsubscribed', 'notifications');
      publish(notificationsChannelOf(alice.id), 'notification', { id: 'after' });
      client.send({ type: 'ping' });
      await client.nextOfType('pong');
      expect(client.received.filter((m) => m.type === 'notification')).toEqual([]);
    });

    it('closes with 1009 on a message over the size limit', async () => {
      const client = await socketOf(alice);
      client.send({ type: 'ping', pad: 'x'.repeat(5000) });
      expect((await client.closed).code).toBe(1009);
    });

    it('drops a consumer that does not read with 4008, and the others get every message', async () => {
      const admin = await app.adminToken();
      const droppedSoFar = (await app.get('/admin/realtime', { token: admin })).body.dropped_consumers;
      const slow = await socketOf(bob, ['notifications']);
      const fast = await socketOf(bob, ['notifications']);
      // The slow client stops reading. The kernel's socket buffers take the first megabytes;
      // then the server's unsent data grows until the limit (64 KB here).
      const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const big = 'y'.repeat(16 * 1024);
      let sent = 0;
      for (let round = 0; round < 200; round++) {
        for (let i = 0; i < 16; i++) publish(notificationsChannelOf(bob.id), 'notification', { i: sent++, big });
        await fast.next((m) => m.type === 'notification' && m.payload.i === sent - 1, 15_000);
        if ((await app.get('/admin/realtime', { token: admin })).body.dropped_consumers > droppedSoFar) break;
      }
      socket.resume();
      expect((await slow.closed).code).toBe(4008);
      // The reader got every message, in order.
      expect(fast.received.filter((m) => m.type === 'notification').map((m) => m.payload.i)).toEqual([...Array(sent).keys()]);
    }, 60_000);
  });

  describe('convenience paths', () => {
    it('/api/v1/ws/notifications subscribes to notifications on connecting', async () => {
      const client = connect(`/api/v1/ws/notifications?token=${alice.token}`);
      await client.nextOfType('subscribed', 'notifications');
      publish(notificationsChannelOf(alice.id), 'notification', { id: 'conv' });
      expect((await client.nextOfType('notification')).payload).toEqual({ id: 'conv' });
    });

    it('/api/v1/ws/chat/:id (no chat rooms yet) and a deployment that is not mine answer error and close with 1008', async () => {
      for (const [path, code] of [
        ['/api/v1/ws/chat/00000000-0000-4000-8000-000000000000', 'UNKNOWN_CHANNEL'],
        ['/api/v1/deployments/00000000-0000-4000-8000-000000000000/logs/stream', 'FORBIDDEN'],
      ]) {
        const client = connect(`${path}?token=${alice.token}`);
        expect((await client.nextOfType('error')).payload.code).toBe(code);
        expect((await client.closed).code).toBe(1008);
      }
    });
  });

  it('GET /admin/realtime counts connections and subscriptions by kind; admins only', async () => {
    await socketOf(alice, ['notifications']);
    const admin = await app.adminToken();
    const stats = await app.get('/admin/realtime', { token: admin });
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ connections: expect.any(Number), authenticated: expect.any(Number), users: expect.any(Number), messages_in: expect.any(Number) });
    expect(stats.body.subscriptions.notifications).toBeGreaterThanOrEqual(1);
    expectError(await app.get('/admin/realtime', { token: alice.token }), 403, 'FORBIDDEN');
    expect((await app.get('/admin/realtime')).status).toBe(401);
  });
});

describe('Realtime keep-alive', () => {
  it('pings sockets and closes those that stop answering', async () => {
    const app = await TestApp.start({ REALTIME_PING_INTERVAL_MS: '200' });
    const clients: WsClient[] = [];
    try {
      const user = await app.registerUser();
      const admin = await app.adminToken();
      const connections = async () => (await app.get('/admin/realtime', { token: admin })).body.connections as number;
      const alive = WsClient.connect(app.url, `/api/v1/ws?token=${user.token}`);
      const dead = WsClient.connect(app.url, `/api/v1/ws?token=${user.token}`);
      clients.push(alive, dead);
      await alive.nextOfType('authenticated');
      await dead.nextOfType('authenticated');
      expect(await connections()).toBe(2);
      // A client that stops reading answers no pings: it is cut off after a missed one; the other stays.
      (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const deadline = Date.now() + 5000;
      while ((await connections()) !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await connections()).toBe(1);
      alive.send({ type: 'ping' });
      await alive.nextOfType('pong');
    } finally {
      for (const client of clients) client.ws.terminate();
      await app.stop();
    }
  });
});

describe('Realtime across replicas', () => {
  it('a message published on one replica reaches a subscriber on another, large ones too, in order', async () => {
    const first = await TestApp.start();
    const second = await TestApp.start({}, { databaseName: first.databaseNameForSharing });
    const clients: WsClient[] = [];
    try {
      const user = await first.registerUser();
      const client = WsClient.connect(second.url, `/api/v1/ws?token=${user.token}`);
      clients.push(client);
      await client.nextOfType('authenticated');
      client.send({ type: 'subscribe', channel: 'notifications' });
      await client.nextOfType('subscribed');
      const bus = first.running.app.get(EventBus);
      // Over NOTIFY's 8 000 bytes: through cluster_messages.
      const large = 'z'.repeat(20_000);
      bus.publish(new RealtimeEvent(notificationsChannelOf(user.id), 'notification', { n: 1 }));
      bus.publish(new RealtimeEvent(notificationsChannelOf(user.id), 'notification', { n: 2, large }));
      await new Promise((resolve) => setImmediate(resolve));
      bus.publish(new RealtimeEvent(notificationsChannelOf(user.id), 'notification', { n: 3 }));
      const received = [await client.nextOfType('notification'), await client.nextOfType('notification'), await client.nextOfType('notification')];
      expect(received.map((m) => m.payload.n)).toEqual([1, 2, 3]);
      expect(received[1].payload.large).toHaveLength(20_000);
      // A burst, one message per event-loop turn (each its own NOTIFY): still in order on the other replica.
      for (let i = 0; i < 200; i++) {
        bus.publish(new RealtimeEvent(notificationsChannelOf(user.id), 'notification', { burst: i }));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await client.next((m) => m.payload?.burst === 199, 15_000);
      expect(client.received.filter((m) => m.payload?.burst !== undefined).map((m) => m.payload.burst)).toEqual([...Array(200).keys()]);
    } finally {
      for (const client of clients) client.close();
      await second.stop({ keepDatabase: true });
      await first.stop();
    }
  });
});

describe('Realtime across replicas over Redis (REDIS_URL)', () => {
  it('carries channel messages between two replicas through Redis pub/sub, large ones too, in order', async () => {
    if (!(await canConnect(6379))) {
      console.warn('Redis does not answer at 127.0.0.1:6379: the Redis transport test was skipped');
      return;
    }
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `test-${Date.now()}-${Math.random().toString(36).slice(2)}:` };
    const first = await TestApp.start(env);
    const second = await TestApp.start(env, { databaseName: first.databaseNameForSharing });
    const client = WsClient.connect(second.url, '/api/v1/ws');
    try {
      const user = await first.registerUser();
      await client.opened();
      client.send({ type: 'auth', token: user.token });
      client.send({ type: 'subscribe', channel: 'notifications' });
      await client.nextOfType('subscribed');
      const bus = first.running.app.get(EventBus);
      for (let i = 0; i < 50; i++) {
        bus.publish(new RealtimeEvent(notificationsChannelOf(user.id), 'notification', { i, ...(i === 10 && { large: 'r'.repeat(50_000) }) }));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await client.next((m) => m.payload?.i === 49, 15_000);
      const got = client.received.filter((m) => m.type === 'notification');
      expect(got.map((m) => m.payload.i)).toEqual([...Array(50).keys()]);
      expect(got[10].payload.large).toHaveLength(50_000);
      // Nothing went through PostgreSQL's table of large messages.
      expect((await first.query('SELECT count(*)::int AS n FROM cluster_messages')).rows[0].n).toBe(0);
    } finally {
      client.close();
      await second.stop({ keepDatabase: true });
      await first.stop();
    }
  });
});
