import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by `main.ts`, for the service process only.
 *
 * V8 "pretenures" an allocation site (allocates its objects straight into the
 * old generation) when most of them survived a scavenge. Under load one site on
 * the authentication path (passport's per-request strategy objects and
 * closures) gets pretenured; those old objects then keep every request's young
 * objects alive through the next scavenges, which copy ~6 MB instead of ~1 MB and
 * take ~10 ms instead of ~2 ms (`node --trace-gc`, `--trace-pretenuring-statistics`).
 * A request server's objects die young, so the heuristic only costs here:
 * without it GET /users/me serves ~20 % more requests (`npm run bench:auth`).
 */
setFlagsFromString('--no-allocation-site-pretenuring');
