/**
 * The promise's answer, or `onTimeout()`'s once `ms` have passed (a rejected
 * promise from it rejects); the timer never outlives the race.
 */
export async function within<T, F>(promise: Promise<T>, ms: number, onTimeout: () => F | Promise<F>): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
