import { EnvironmentLocks } from './environment-locks';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('EnvironmentLocks', () => {
  it('runs work for one key one at a time, and different keys at once', async () => {
    const locks = new EnvironmentLocks();
    const log: string[] = [];
    const job = (key: string, name: string) => locks.run(key, async () => {
      log.push(`${name}:start`);
      await tick();
      log.push(`${name}:end`);
    });
    await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1')]);
    expect(log.indexOf('a1:end')).toBeLessThan(log.indexOf('a2:start'));
    expect(log.indexOf('b1:start')).toBeLessThan(log.indexOf('a1:end'));
  });

  it('keeps going after a failure', async () => {
    const locks = new EnvironmentLocks();
    await expect(locks.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(locks.run('a', async () => 42)).resolves.toBe(42);
  });
});
