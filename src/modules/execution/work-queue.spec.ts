import { LeftQueueError, QueueFullError, WorkQueue } from './work-queue';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkQueue', () => {
  it('admits up to the slot count and starts waiters in FIFO order as slots free up', async () => {
    const queue = new WorkQueue(2, 10);
    const order: string[] = [];
    const enter = (user: string, name: string) => queue.enter(user, null).then((release) => (order.push(name), release));
    const a = enter('u1', 'a');
    const b = enter('u2', 'b');
    const c = enter('u3', 'c');
    const d = enter('u4', 'd');
    await tick();
    expect(order).toEqual(['a', 'b']);
    expect(queue.queued).toBe(2);
    (await a)();
    await tick();
    expect(order).toEqual(['a', 'b', 'c']);
    (await b)();
    await tick();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    (await c)();
    (await d)();
    expect(queue.active).toBe(0);
  });

  it('skips a user at their cap without losing their place, so others are not starved', async () => {
    const queue = new WorkQueue(2, 10);
    const order: string[] = [];
    const enter = (user: string, name: string) => queue.enter(user, 1).then((release) => (order.push(name), release));
    const first = enter('greedy', 'g1');
    const second = enter('greedy', 'g2');
    const other = enter('polite', 'p1');
    await tick();
    expect(order).toEqual(['g1', 'p1']);
    (await first)();
    await tick();
    expect(order).toEqual(['g1', 'p1', 'g2']);
    (await second)();
    (await other)();
  });

  it('rejects beyond the queue capacity and takes a cancelled waiter out', async () => {
    const queue = new WorkQueue(1, 1);
    const running = await queue.enter('u1', null);
    const controller = new AbortController();
    const waiting = queue.enter('u2', null, controller.signal);
    expect(queue.accepting).toBe(false);
    await expect(queue.enter('u3', null)).rejects.toBeInstanceOf(QueueFullError);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(LeftQueueError);
    expect(queue.queued).toBe(0);
    running();
    running(); // a second release is a no-op
    expect(queue.active).toBe(0);
  });
});
