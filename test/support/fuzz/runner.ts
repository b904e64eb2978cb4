import type { FuzzRequest } from './mutations';
import { cut, previewBody } from './values';

export type Outcome =
  | { kind: 'response'; status: number; contentType: string; text: string }
  | { kind: 'timeout' }
  | { kind: 'network-error'; message: string };

/**
 * Sends the request with raw fetch (bodies and paths go out exactly as built:
 * raw JSON text, bytes, percent-encodings) and reads the whole answer.
 */
export async function send(baseUrl: string, method: string, request: FuzzRequest, token: string | null, timeoutMs: number): Promise<Outcome> {
  const headers: Record<string, string> = { ...request.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const response = await fetch(urlOf(baseUrl, request), { method, headers, body: request.body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return { kind: 'response', status: response.status, contentType: response.headers.get('content-type') ?? '', text };
  } catch (error) {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return { kind: 'timeout' };
    return { kind: 'network-error', message: [err.message, err.cause?.code, err.cause?.message].filter(Boolean).join(': ') };
  }
}

export function urlOf(baseUrl: string, request: FuzzRequest): string {
  return `${baseUrl}${request.path}${request.query ? `?${request.query}` : ''}`;
}

/** The error code of a JSON error body, if it has one. */
export function errorCodeOf(outcome: Outcome): string | undefined {
  if (outcome.kind !== 'response') return undefined;
  try {
    const code = JSON.parse(outcome.text)?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with an answer, as a short label that is the same for every
 * request failing the same way (reports group by it), or null when nothing is:
 * any 5xx, a 4xx outside the error envelope {error: {code, message, details,
 * request_id}} or not JSON, no answer at all, or (except on streams) none in time.
 * An OAuth2 endpoint may also answer RFC 6749's {error, error_description}.
 */
export function problemOf(outcome: Outcome, options: { streaming: boolean; oauth2: boolean; openai?: boolean }, timeoutMs: number): string | null {
  if (outcome.kind === 'timeout') return options.streaming ? null : `no answer within ${timeoutMs / 1000} s`;
  if (outcome.kind === 'network-error') return `no HTTP answer (${outcome.message})`;
  if (outcome.status >= 500) return `${outcome.status} ${errorCodeOf(outcome) ?? '(no envelope)'}`;
  if (outcome.status < 400) return null;
  if (options.oauth2 && isOAuth2Error(outcome)) return null;
  // A 431 is answered by the HTTP parser before there is a route to know (client-error.ts): always the envelope.
  if (options.openai && outcome.status !== 431) {
    return isOpenAiError(outcome) ? null : `${outcome.status} not OpenAI's error shape {error: {message, type, code}}`;
  }
  const envelope = envelopeProblem(outcome);
  return envelope ? `${outcome.status} ${envelope}` : null;
}

/** OpenAI's `{error: {message, type, code, param}}`, which the OpenAI-compatible gateway answers instead of the envelope. */
function isOpenAiError(outcome: Extract<Outcome, { kind: 'response' }>): boolean {
  if (!/^application\/json\b/i.test(outcome.contentType)) return false;
  try {
    const error = (JSON.parse(outcome.text) as { error?: { message?: unknown; type?: unknown; code?: unknown } }).error;
    return typeof error?.message === 'string' && typeof error.type === 'string' && (typeof error.code === 'string' || error.code === null);
  } catch {
    return false;
  }
}

function isOAuth2Error(outcome: Extract<Outcome, { kind: 'response' }>): boolean {
  try {
    const body = JSON.parse(outcome.text) as { error?: unknown; error_description?: unknown };
    return typeof body.error === 'string' && typeof body.error_description === 'string';
  } catch {
    return false;
  }
}

function envelopeProblem(outcome: Extract<Outcome, { kind: 'response' }>): string | null {
  if (!/^application\/json\b/i.test(outcome.contentType)) return `not JSON (content-type "${outcome.contentType}")`;
  let body: any;
  try {
    body = JSON.parse(outcome.text);
  } catch {
    return 'body does not parse as JSON';
  }
  const error = body?.error;
  if (typeof error !== 'object' || error === null) return 'no error envelope';
  const missing = [
    typeof error.code === 'string' ? null : 'code',
    typeof error.message === 'string' ? null : 'message',
    typeof error.details === 'object' && error.details !== null && !Array.isArray(error.details) ? null : 'details',
    typeof error.request_id === 'string' ? null : 'request_id',
  ].filter(Boolean);
  return missing.length ? `envelope lacks error.${missing.join(', error.')}` : null;
}

/** A short excerpt of what came back, for reports. */
export function describeOutcome(outcome: Outcome): string {
  if (outcome.kind === 'timeout') return '(timed out)';
  if (outcome.kind === 'network-error') return `(${outcome.message})`;
  return `${outcome.status} ${outcome.contentType || '(no content-type)'} ${cut(outcome.text, 300) || "''"}`;
}

/**
 * Who sends: anonymous (no token), or an account that can log in again. Some
 * operations end the very session they are called with (logout, logout-all,
 * a session revoked by id); after a 401, `renewIfRevoked` checks the token
 * and, only when it really is dead, logs in once (shared by all requests in
 * flight) so the walk goes on.
 */
export class Caller {
  renewals = 0;
  private renewing: Promise<void> | null = null;

  constructor(
    readonly name: string,
    public token: string | null,
    private readonly login: (() => Promise<string>) | null,
    private readonly isValid: (token: string) => Promise<boolean>,
  ) {}

  /** After a 401 for a request sent with `used`: whether to send it again (with `token`). */
  async renewIfRevoked(used: string | null): Promise<boolean> {
    if (!this.login || used === null) return false;
    if (this.token !== used) return true;
    if (await this.isValid(used)) return false;
    if (this.token === used) {
      this.renewing ??= this.login()
        .then((token) => {
          this.token = token;
          this.renewals++;
        })
        .finally(() => {
          this.renewing = null;
        });
      await this.renewing;
    }
    return true;
  }
}

/** Runs `worker` over `items` with at most `limit` in flight. */
export async function runPool<T>(items: T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await worker(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

export interface Failure {
  operation: string;
  caller: string;
  mutation: string;
  detail: string;
  problem: string;
  /** Method and URL (the query cut to a readable length). */
  request: string;
  body: string;
  response: string;
}

export function failureOf(operation: string, method: string, caller: string, baseUrl: string, request: FuzzRequest, problem: string, outcome: Outcome): Failure {
  return {
    operation,
    caller,
    mutation: request.mutation,
    detail: request.detail,
    problem,
    request: `${method} ${cut(urlOf(baseUrl, request).slice(baseUrl.length), 200)}`,
    body: `${request.headers['content-type'] ? `[${request.headers['content-type']}] ` : ''}${previewBody(request.body)}`,
    response: describeOutcome(outcome),
  };
}

/**
 * The failures grouped twice: a summary per problem (which mutation classes
 * and how many operations it hit), then one entry per (operation, mutation
 * class, problem) with the callers it hit and one request to reproduce.
 */
export function report(failures: Failure[], seed: number): string {
  const byProblem = groupBy(failures, (f) => f.problem);
  const byEntry = groupBy(failures, (f) => `${f.operation} | ${f.mutation} | ${f.problem}`);
  const lines = [
    `${byEntry.size} distinct failures (${failures.length} failing requests); seed ${seed}: rerun with FUZZ_SEED=${seed}`,
    '',
    'By problem:',
    ...[...byProblem].map(([problem, group]) => {
      const mutations = [...new Set(group.map((f) => f.mutation))].join(', ');
      const operations = new Set(group.map((f) => f.operation)).size;
      return `  ${problem}: ${operations} operation${operations === 1 ? '' : 's'}, ${group.length} request${group.length === 1 ? '' : 's'} (${mutations})`;
    }),
    '',
    'By operation | mutation | problem:',
  ];
  let n = 0;
  for (const [key, group] of byEntry) {
    const example = group[0];
    const callers = [...new Set(group.map((f) => f.caller))].join(', ');
    lines.push(
      '',
      `${++n}. ${key}`,
      `   callers: ${callers} (${group.length} request${group.length === 1 ? '' : 's'})`,
      `   e.g. as ${example.caller}: ${example.detail}`,
      `   ${example.request}`,
      `   body: ${example.body}`,
      `   → ${example.response}`,
    );
  }
  return lines.join('\n');
}

/** Groups in key order, so reports read the same from run to run. */
function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)));
}
