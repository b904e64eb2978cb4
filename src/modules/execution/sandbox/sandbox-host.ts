import type { FromHost, ToHost } from './host-protocol';
import { internalErrorOutcome } from './sandbox';
import { SandboxFleet } from './sandbox-fleet';

/**
 * The sandbox host: a small child process of the API that starts, runs and
 * destroys sandboxes on its behalf (see SandboxPool). Spawning a process from
 * Node blocks its event loop while the parent's memory is forked, a few ms for
 * the API's ~200 MB; this process is small, and its blocking never delays HTTP.
 */
let fleet: SandboxFleet | undefined;
const runs = new Map<number, AbortController>();

function send(message: FromHost): void {
  process.send?.(message);
}

async function handle(message: ToHost): Promise<void> {
  switch (message.type) {
    case 'start': {
      fleet = new SandboxFleet(message.options, (text) => send({ type: 'warning', message: text }));
      await fleet.start();
      send({ type: 'started', status: fleet.status, runtimes: fleet.runtimes });
      return;
    }
    case 'run': {
      const abort = new AbortController();
      runs.set(message.id, abort);
      try {
        const outcome = await fleet!.run(message.job, {
          signal: abort.signal,
          onOutput: (stream, text) => send({ type: 'output', id: message.id, stream, text }),
        });
        send({ type: 'outcome', id: message.id, outcome });
      } finally {
        runs.delete(message.id);
      }
      return;
    }
    case 'cancel':
      runs.get(message.id)?.abort();
      return;
    case 'stats':
      send({ type: 'stats', id: message.id, warmSandboxes: fleet?.warmSandboxes ?? 0 });
      return;
    case 'stop':
      for (const abort of runs.values()) abort.abort();
      await fleet?.stop();
      send({ type: 'stopped' });
      process.disconnect?.();
      return;
  }
}

process.on('message', (message: ToHost) => {
  handle(message).catch((error: unknown) => {
    if (message.type === 'run') {
      const text = error instanceof Error ? error.message : String(error);
      send({ type: 'outcome', id: message.id, outcome: internalErrorOutcome(text) });
    } else {
      send({ type: 'warning', message: `sandbox host: ${String(error)}` });
    }
  });
});
// The API went away (even by SIGKILL): take every sandbox down with us.
process.on('disconnect', () => {
  void fleet?.stop().finally(() => process.exit(0));
  if (!fleet) process.exit(0);
});
