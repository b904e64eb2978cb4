import { STATUS_CODES } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, MediaTypeObject, OpenAPIObject, OperationObject, ResponseObject, SwaggerModule } from '@nestjs/swagger';
import { SWAGGER_API_KEY, SWAGGER_JWT, SWAGGER_OAUTH2 } from '../auth/auth.decorators';
import { ErrorCode, HTTP_STATUS_BY_CODE } from '../errors/error-code';
import { ErrorResponse } from '../errors/error-response.dto';

export const API_PREFIX = 'api/v1';

const ERROR_SCHEMA = '#/components/schemas/ErrorResponse';
/** A new object each time: each response gets an example of its own. */
const errorContent = () => ({ 'application/json': { schema: { $ref: ERROR_SCHEMA } } });

/** Each code's example message and details, shown as the example of the error responses answering it. */
const ERROR_EXAMPLES: Record<ErrorCode, { message: string; details?: Record<string, unknown> }> = {
  [ErrorCode.VALIDATION_ERROR]: { message: 'Request validation failed', details: { fields: { code: ['code must be a string'] } } },
  [ErrorCode.BAD_REQUEST]: { message: 'Malformed JSON body' },
  [ErrorCode.UNAUTHORIZED]: { message: 'Authentication required' },
  [ErrorCode.INVALID_CREDENTIALS]: { message: 'Wrong username, email or password' },
  [ErrorCode.TOKEN_EXPIRED]: { message: 'Access token has expired' },
  [ErrorCode.TOKEN_REVOKED]: { message: 'This session has been revoked; log in again' },
  [ErrorCode.FORBIDDEN]: { message: 'You are not allowed to do this' },
  [ErrorCode.ACCOUNT_DISABLED]: { message: 'This account is disabled' },
  [ErrorCode.NOT_FOUND]: { message: 'Environment not found' },
  [ErrorCode.REQUEST_TIMEOUT]: { message: 'The request took too long to arrive' },
  [ErrorCode.CONFLICT]: { message: 'An environment with this name already exists', details: { field: 'name' } },
  [ErrorCode.FILE_TOO_LARGE]: { message: 'report.pdf is larger than 10485760 bytes, the most your plan allows a file', details: { filename: 'report.pdf', limit_bytes: 10485760 } },
  [ErrorCode.STORAGE_QUOTA_EXCEEDED]: { message: 'Storing report.pdf would pass your plan\'s 104857600 bytes of storage', details: { used_bytes: 104000000, limit_bytes: 104857600 } },
  [ErrorCode.PAYLOAD_TOO_LARGE]: { message: 'Request body is too large' },
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: { message: 'This operation takes a JSON body (application/json), not a form' },
  [ErrorCode.RANGE_NOT_SATISFIABLE]: { message: 'The range starts past the end of the file (10 bytes)', details: { size: 10 } },
  [ErrorCode.INVALID_FILE_TYPE]: { message: 'This file type is not accepted' },
  [ErrorCode.UNPROCESSABLE]: { message: 'pip failed: No matching distribution found for nosuchpackage', details: { output: 'ERROR: No matching distribution found for nosuchpackage' } },
  [ErrorCode.RATE_LIMITED]: { message: 'Rate limit of 60 requests per minute exceeded', details: { retry_after: 42, limit: 60, window: 'minute' } },
  [ErrorCode.QUOTA_EXCEEDED]: { message: 'Daily quota of 100 executions reached; it resets at midnight UTC', details: { quota: 'executions_per_day', limit: 100, resets_at: '2026-01-02T00:00:00.000Z' } },
  [ErrorCode.HEADERS_TOO_LARGE]: { message: 'Request headers, path and query are too large (16 KB at most together)' },
  [ErrorCode.INTERNAL_ERROR]: { message: 'Internal server error' },
  [ErrorCode.UPSTREAM_ERROR]: { message: 'pip did not finish within 300000 ms', details: { timeout_ms: 300000, output: '' } },
  [ErrorCode.SERVICE_UNAVAILABLE]: { message: 'Too many runs are waiting; try again shortly', details: { retry_after: 1 } },
};

/** Request body examples by DTO class name, set by @ApiRequestExample. */
const requestExamples = new Map<string, Record<string, unknown>>();

/**
 * The body "Try it out" starts from. Without it Swagger UI fills in every
 * optional property with a placeholder (a made-up environment_id, args
 * ["string"]), and the request fails. The example must succeed as it stands
 * for a new user (for an admin on admin operations): leave out what needs
 * real ids unless the operation cannot do without them.
 */
export const ApiRequestExample =
  (example: Record<string, unknown>): ClassDecorator =>
  (target) => {
    requestExamples.set(target.name, example);
  };

/** The OpenAPI document: also what `npm run openapi` writes to openapi.json. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('CodeRunner API')
    .setDescription(
      'Run, share and deploy code. Authorize with a JWT (from /api/v1/auth/login), with the OAuth2 password flow ' +
        '(log in from this page), or with an API key (`X-API-Key: sk-...`) where an endpoint accepts one. ' +
        'Every error has the shape `{error: {code, message, details, request_id}}`, except those of the OAuth2 ' +
        'token endpoint (RFC 6749 §5.2).',
    )
    .setVersion('v1')
    // Paths carry the /api/v1 prefix: the server is wherever this document is served from.
    .addServer('/')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, SWAGGER_JWT)
    .addOAuth2({ type: 'oauth2', flows: { password: { tokenUrl: `/${API_PREFIX}/auth/token`, scopes: {} } } }, SWAGGER_OAUTH2)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, SWAGGER_API_KEY)
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponse] });
  // package.json says UNLICENSED: there is no license text to link to (setLicense always sets a url).
  document.info.license = { name: 'Proprietary (UNLICENSED)' };
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      completeOperation(operation as OperationObject);
    }
  }
  return document;
}

/** What Nest's decorators do not say, filled in the same way for every operation. */
function completeOperation(operation: OperationObject): void {
  // The auth decorators (@Authenticated and the like) declare their schemes; an operation
  // without any is public, which OpenAPI says with an empty list (else the root's applies).
  operation.security ??= [];
  const responses = operation.responses as Record<string, ResponseObject>;
  // An operation answering its errors in another shape than the envelope says so with x-error-schema (a $ref).
  const errorSchema = (operation as OperationObject & { 'x-error-schema'?: { $ref: string } })['x-error-schema'];
  const errors = () => (errorSchema ? { 'application/json': { schema: errorSchema } } : errorContent());
  // Failures any endpoint can answer, documented once here rather than on every route.
  responses['429'] ??= { description: 'RATE_LIMITED: too many requests (Retry-After header)', content: errors() };
  responses['500'] ??= { description: 'INTERNAL_ERROR', content: errors() };
  const body = operation.requestBody && 'content' in operation.requestBody ? operation.requestBody : undefined;
  if (body) {
    responses['413'] ??= { description: 'PAYLOAD_TOO_LARGE: the body is over the size limit', content: errors() };
    responses['415'] ??= { description: 'UNSUPPORTED_MEDIA_TYPE: the body is not of a type this operation takes', content: errors() };
    for (const media of Object.values(body.content)) {
      // A body of several shapes (oneOf) starts from the first one's example.
      const schema = media.schema && 'oneOf' in media.schema ? media.schema.oneOf?.[0] : media.schema;
      const ref = schema && '$ref' in schema ? schema.$ref : undefined;
      const example = ref ? requestExamples.get(ref.split('/').pop()!) : undefined;
      if (example && media.example === undefined) media.example = example;
    }
  }
  for (const [status, response] of Object.entries(responses)) {
    if (Number(status) < 400) {
      response.description ||= STATUS_CODES[status]!;
      continue;
    }
    if (errorSchema) {
      response.content = errors();
      response.description ||= STATUS_CODES[status]!;
      continue;
    }
    const media = response.content?.['application/json'] as MediaTypeObject | undefined;
    const isEnvelope = media?.schema && '$ref' in media.schema && media.schema.$ref === ERROR_SCHEMA;
    const codes = codesOf(Number(status), response.description);
    response.description ||= codes[0];
    if (isEnvelope && media.example === undefined && media.examples === undefined) {
      if (codes.length === 1) {
        media.example = envelopeOf(codes[0]);
      } else {
        media.examples = Object.fromEntries(codes.map((code) => [code, { value: envelopeOf(code) }]));
      }
    }
  }
}

function envelopeOf(code: ErrorCode): Record<string, unknown> {
  const { message, details = {} } = ERROR_EXAMPLES[code];
  return { error: { code, message, details, request_id: '5f0c6f7e-2a4b-4c1e-9d7a-1b2c3d4e5f60' } };
}

/**
 * The codes of this status a response's description names (`QUOTA_EXCEEDED ... or RATE_LIMITED`),
 * else the first code of that status in ErrorCode's order, its most general one.
 */
function codesOf(status: number, description: string | undefined): ErrorCode[] {
  const named = (description?.match(/\b[A-Z][A-Z_]+\b/g) ?? []).filter((word) => HTTP_STATUS_BY_CODE[word as ErrorCode] === status) as ErrorCode[];
  if (named.length) return [...new Set(named)];
  const code = Object.values(ErrorCode).find((candidate) => HTTP_STATUS_BY_CODE[candidate] === status);
  if (!code) throw new Error(`No error code has status ${status}`);
  return [code];
}

export function setupSwagger(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
    customSiteTitle: 'CodeRunner API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
}
