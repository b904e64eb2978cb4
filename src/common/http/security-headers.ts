import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * helmet's full header set, for the HTML pages (Swagger UI), computed once at
 * start: running the middleware on every request would rebuild the same strings.
 */
export function computeHtmlSecurityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const fakeResponse = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  } as unknown as ServerResponse;
  helmet({
    // Swagger UI needs its own inline style; everything else stays same-origin.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        scriptSrc: ["'self'"],
      },
    },
  })({} as IncomingMessage, fakeResponse, () => undefined);
  return headers;
}

/**
 * JSON responses get the headers that matter for a document that is never
 * rendered: no sniffing, no framing, no referrer, nothing loadable, HTTPS only.
 * helmet's HTML-oriented rest (DNS prefetch, download options, origin agent
 * cluster, ...) would only add bytes and header validation to every response.
 */
export const API_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'cross-origin-resource-policy': 'same-origin',
};
