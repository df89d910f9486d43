import type { z } from 'zod';
import { codeSamples, samplesMarkdown } from './code-samples.ts';
import { componentSchemas, schemaOrRef } from './json-schema.ts';
import { operationId, type ResponseDoc, type RouteDef } from './route.ts';

type Json = Record<string, unknown>;

function parameters(shape: z.ZodObject | undefined, where: 'query' | 'path'): Json[] {
  if (!shape) return [];
  const props = schemaOrRef(shape) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(props.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: where,
      required: where === 'path' || (props.required ?? []).includes(name),
      schema: rest,
      ...(description ? { description } : {}),
    };
  });
}

function response(doc: ResponseDoc): Json {
  if (doc.schema) return { description: doc.description, content: { 'application/json': { schema: schemaOrRef(doc.schema) } } };
  if (doc.contentTypes)
    return { description: doc.description, content: Object.fromEntries(doc.contentTypes.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])) };
  return { description: doc.description };
}

function operation(route: RouteDef): Json {
  const samples = codeSamples(route);
  const description = [route.description, samplesMarkdown(samples)].filter(Boolean).join('\n\n');
  return {
    operationId: operationId(route),
    tags: [route.tag],
    summary: route.summary,
    description,
    ...(route.auth === 'x-key' ? { security: [{ APIKeyHeader: [] }] } : { security: [] }),
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOrRef(route.body), ...(route.examples?.body ? { example: route.examples.body } : {}) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(route.responses).map(([status, doc]) => [status, response(doc)])),
    'x-codeSamples': samples,
    ...(route.extension ? { 'x-fluxtune-extension': true } : {}),
  };
}

/** OpenAPI 3.1 for a route table: paths, parameters, bodies and responses all come from the declarations. */
export function buildOpenApi(routes: readonly RouteDef[], o: { region: string; version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'fluxtune — BFL-compatible finetuning API',
      version: o.version,
      description:
        `Self-hosted implementation of Black Forest Labs' FLUX finetuning API (region ${o.region}). ` +
        'Authorize with an API key in the x-key header (`fluxtune keys create`). Any BFL client works by changing its base URL. ' +
        "Fields with a default also accept null, meaning the default. Routes marked x-fluxtune-extension are ours, not BFL's.",
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    components: { securitySchemes: { APIKeyHeader: { type: 'apiKey', in: 'header', name: 'x-key' } }, schemas: componentSchemas() },
    paths,
  };
}
