import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { SWAGGER_API_KEY, SWAGGER_JWT, SWAGGER_OAUTH2 } from '../auth/auth.decorators';
import { ErrorResponse } from '../errors/error-response.dto';

export const API_PREFIX = 'api/v1';

const errorRef = { $ref: '#/components/schemas/ErrorResponse' };

/** The OpenAPI document: also what `npm run openapi` writes to openapi.json. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('CodeRunner API')
    .setDescription(
      'Run, share and deploy code. Authorize with a JWT (from /api/v1/auth/login), with the OAuth2 password flow ' +
        '(log in from this page), or with an API key (`X-API-Key: sk-...`) where an endpoint accepts one. ' +
        'Every error has the shape `{error: {code, message, details, request_id}}`.',
    )
    .setVersion('v1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, SWAGGER_JWT)
    .addOAuth2({ type: 'oauth2', flows: { password: { tokenUrl: `/${API_PREFIX}/auth/token`, scopes: {} } } }, SWAGGER_OAUTH2)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, SWAGGER_API_KEY)
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponse] });
  // Failures any endpoint can answer, documented once here rather than on every route.
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const responses = operation.responses as Record<string, unknown>;
      responses['429'] ??= { description: 'RATE_LIMITED (Retry-After header)', content: { 'application/json': { schema: errorRef } } };
      responses['500'] ??= { description: 'INTERNAL_ERROR', content: { 'application/json': { schema: errorRef } } };
    }
  }
  return document;
}

export function setupSwagger(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
    customSiteTitle: 'CodeRunner API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
}
