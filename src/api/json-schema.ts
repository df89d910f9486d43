import { z } from 'zod';
import { components } from './components.ts';
import { fieldDocs } from './schema-helpers.ts';

type Json = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/**
 * zod → JSON Schema as an OpenAPI 3.1 document wants it, written the way pydantic writes BFL's models:
 * a field with a default is `{type, default}` (null is accepted too and means "use the default"),
 * integers carry no safe-integer bounds, and integer literals are integers.
 */
function override(ctx: { zodSchema: unknown; jsonSchema: Json }): void {
  const js = ctx.jsonSchema;
  const doc = fieldDocs.get(ctx.zodSchema as z.ZodType);
  if (doc && 'default' in doc) {
    dropNull(js);
    js.default = doc.default;
  }
  if (doc?.description && js.description === undefined) js.description = doc.description;
  if (js.minimum === Number.MIN_SAFE_INTEGER) delete js.minimum;
  if (js.maximum === Number.MAX_SAFE_INTEGER) delete js.maximum;
  if (js.type === 'number' && Array.isArray(js.enum) && js.enum.every(Number.isInteger)) js.type = 'integer';
}

function dropNull(js: Json): void {
  if (Array.isArray(js.type)) {
    const types = js.type.filter((t) => t !== 'null');
    js.type = types.length === 1 ? types[0] : types;
  }
  if (Array.isArray(js.anyOf)) {
    const rest = (js.anyOf as Json[]).filter((b) => b.type !== 'null');
    delete js.anyOf;
    if (rest.length === 1) Object.assign(js, rest[0]);
    else js.anyOf = rest;
  }
}

const options = { io: 'input', unrepresentable: 'any', override, uri: (id: string) => `${COMPONENTS}${id}` } as const;

function clean(js: Json): Json {
  const { $schema: _s, $id: _i, $defs: _d, ...rest } = js;
  // Named schemas met inside an inline one are already in components.schemas.
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', `"${COMPONENTS}`)) as Json;
}

/** components.schemas: every named schema, cross-referenced by $ref. */
export function componentSchemas(): Record<string, Json> {
  const { schemas } = z.toJSONSchema(components, options) as unknown as { schemas: Record<string, Json> };
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, clean(s)]));
}

/** A $ref for a named schema, else the schema inline. */
export function schemaOrRef(schema: z.ZodType): Json {
  const id = components.get(schema)?.id;
  if (id) return { $ref: `${COMPONENTS}${id}` };
  return clean(z.toJSONSchema(schema, { ...options, metadata: components }) as Json);
}
