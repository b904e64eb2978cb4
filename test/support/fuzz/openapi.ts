import { readFileSync } from 'node:fs';

/** The part of OpenAPI 3's schema dialect that openapi.json uses. */
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  example?: unknown;
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  $ref?: string;
  allOf?: Schema[];
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Schema;
}

/** One operation of openapi.json, with every `$ref` resolved. */
export interface Operation {
  /** "POST /api/v1/execute": how reports name the operation. */
  id: string;
  method: string;
  /** The template, e.g. /api/v1/code-library/{id}. */
  path: string;
  parameters: Parameter[];
  /** The request body's media type and schema, when the operation takes one. */
  body: { contentType: string; schema: Schema } | null;
  /** Lists a security requirement: an anonymous caller should get 401. */
  authenticated: boolean;
  /** Answers with an event stream (which may legitimately stay open). */
  streaming: boolean;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation of the document, in document order. */
export function loadOperations(file: string): Operation[] {
  const document = JSON.parse(readFileSync(file, 'utf8'));
  const schemas: Record<string, Schema> = document.components?.schemas ?? {};
  const resolve = (schema: Schema | undefined): Schema => resolveSchema(schema ?? {}, schemas);
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const parameters: Parameter[] = [...(item.parameters ?? []), ...(operation.parameters ?? [])].map((p: any) => ({
        name: p.name,
        in: p.in,
        required: p.required === true || p.in === 'path',
        schema: resolve(p.schema),
      }));
      const content: Record<string, { schema?: Schema }> | undefined = operation.requestBody?.content;
      const contentType = content ? Object.keys(content)[0] : undefined;
      operations.push({
        id: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters,
        body: contentType ? { contentType, schema: resolve(content![contentType].schema) } : null,
        authenticated: (operation.security ?? document.security ?? []).length > 0,
        streaming: Object.values<any>(operation.responses ?? {}).some((r) => r?.content?.['text/event-stream'] !== undefined),
      });
    }
  }
  return operations;
}

/** Inlines `$ref`s (into components.schemas) and `allOf`s, recursively. */
export function resolveSchema(schema: Schema, schemas: Record<string, Schema>, depth = 0): Schema {
  if (depth > 32) return {};
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = schemas[name];
    if (!target) throw new Error(`openapi.json: unresolvable $ref ${schema.$ref}`);
    return resolveSchema(target, schemas, depth + 1);
  }
  let resolved: Schema = { ...schema };
  if (schema.allOf) {
    delete resolved.allOf;
    for (const part of schema.allOf.map((s) => resolveSchema(s, schemas, depth + 1))) {
      resolved = {
        ...part,
        ...resolved,
        properties: { ...part.properties, ...resolved.properties },
        required: [...(part.required ?? []), ...(resolved.required ?? [])],
      };
    }
  }
  if (resolved.properties) {
    resolved.properties = Object.fromEntries(Object.entries(resolved.properties).map(([k, v]) => [k, resolveSchema(v, schemas, depth + 1)]));
  }
  if (resolved.items) resolved.items = resolveSchema(resolved.items, schemas, depth + 1);
  return resolved;
}
