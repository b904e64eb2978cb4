/** What a token bucket is: tokens left, and when they were counted (ms). */
export interface TokenBucket {
  tokens: number;
  at: number;
}

/** Adds what `perSecond` has earned since the bucket was last counted, up to `burst` (a clock gone back earns nothing). */
export function refill(bucket: TokenBucket, now: number, perSecond: number, burst: number): void {
  if (now <= bucket.at) return;
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
  bucket.at = now;
}
