// Labels' help, defaults and ranges come from the server's own OpenAPI document (public, no key), so the
// forms say exactly what the API accepts.

export interface FieldSpec {
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  multipleOf?: number;
  enum?: unknown[];
}

type Property = FieldSpec & { anyOf?: (FieldSpec & { type?: string })[] };
type Schemas = Record<string, { properties?: Record<string, Property> }>;
interface OpenApiDoc {
  components: { schemas: Schemas };
  paths: Record<string, { post?: { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } } }>;
}

let loaded: Promise<OpenApiDoc> | undefined;

export function loadSchemas(): Promise<OpenApiDoc> {
  loaded ??= fetch('/openapi.json')
    .then((r) => r.json() as Promise<OpenApiDoc>)
    .catch(() => ({ components: { schemas: {} }, paths: {} }));
  return loaded;
}

/** One field of a named request schema; a nullable field's range lives in its non-null branch. */
export function fieldSpec(doc: OpenApiDoc, component: string, field: string): FieldSpec {
  const raw = doc.components.schemas[component]?.properties?.[field];
  if (!raw) return {};
  const branch = raw.anyOf?.find((b) => b.type !== 'null') ?? {};
  return { ...branch, ...raw };
}

/** The request schema a POST route takes (its component name), e.g. FluxProFinetuneInputs for /v1/flux-pro-finetuned. */
export function requestComponent(doc: OpenApiDoc, path: string): string | undefined {
  const ref = doc.paths[path]?.post?.requestBody?.content?.['application/json']?.schema?.$ref;
  return ref?.replace('#/components/schemas/', '');
}

/** Whether the route's request has the field at all. */
export const hasField = (doc: OpenApiDoc, component: string | undefined, field: string) =>
  !!component && !!doc.components.schemas[component]?.properties?.[field];
