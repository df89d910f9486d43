// Our generated OpenAPI against BFL's own (../shared/reference/bfl-openapi-2025-05.json, May 2025):
// every route BFL also has must agree on field names, types, enums, defaults, ranges and required-ness.
// The differences that remain are listed below, each with the line of ../shared/API.md that makes it ours.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildOpenApi } from '../../src/api/openapi.ts';
import { API_ROUTES } from '../../src/api/routes.ts';

type Json = Record<string, any>;

const BFL_FILE = new URL('../../../shared/reference/bfl-openapi-2025-05.json', import.meta.url);
const skip = existsSync(BFL_FILE) ? false : `BFL's OpenAPI is not beside the repo (${BFL_FILE.pathname})`;

/** BFL routes we do not serve yet, and why. */
const NOT_SERVED: Record<string, string> = {
  'POST /v1/flux-pro-1.1': 'not part of the finetuning API (API.md lists the five endpoint pairs a finetune uses)',
  'POST /v1/flux-dev': 'not part of the finetuning API (as above)',
};

/** Response fields we add or narrow, "<Component>.<field>": the API.md text that says so. */
const RESPONSE_CHOICES: Record<string, string> = {
  'ResultResponse.preview': '"`preview` (ours): latest training preview image URL while a finetune trains"',
  'ResultResponse.phase':
    'ours, not yet in API.md: what a Pending task does now (issue 10: "get_result and finetune_details name the phase"); add it to API.md\'s "Our choices"',
  'ResultResponse.result': 'API.md documents result as an object ({"sample", …} or {"finetune_id"}); BFL types it as anything',
  'AsyncResponse.finetune_id': '"POST /v1/finetune → 200 {"finetune_id": "<uuid>"}" (our /v1/finetune answer adds it to id and polling_url)',
};

/** Request fields we check more strictly, "<route>.<field>": why. Not yet in API.md's "Our choices": add it there. */
const REQUEST_CHOICES: Record<string, string> = {
  '/v1/finetune.trigger_word': 'minLength 1: an empty trigger word would leave the concept unnamed in every caption, so the finetune could not be prompted',
};

const KEYS = [
  'type',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'format',
  'default',
] as const;

function resolve(doc: Json, s: Json | undefined): Json {
  let cur = s ?? {};
  while (cur.$ref) {
    const extra = { ...cur };
    delete extra.$ref;
    cur = { ...doc.components.schemas[cur.$ref.split('/').pop()], ...extra };
  }
  return cur;
}

/** A field as a client sees its contract: nullability dropped (pydantic's Optional is inconsistent across BFL's models; we take null everywhere as "the default"). */
function descriptor(doc: Json, raw: Json): Json {
  let s = resolve(doc, raw);
  if (Array.isArray(s.anyOf)) {
    const rest = s.anyOf.filter((b: Json) => b.type !== 'null').map((b: Json) => resolve(doc, b));
    if (rest.length === 1) s = { ...rest[0], ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'anyOf')) };
  }
  if (Array.isArray(s.type)) {
    const t = s.type.filter((x: string) => x !== 'null');
    s = { ...s, type: t.length === 1 ? t[0] : t };
  }
  const out: Json = {};
  for (const k of KEYS) if (s[k] !== undefined) out[k] = s[k];
  if (s.type === 'array' && s.items) out.items = descriptor(doc, s.items);
  return out;
}

/** Every constraint BFL states holds in ours; where BFL leaves a part unspecified (array items of {}), ours may say what it is. */
function assertCovers(got: Json, want: Json, where: string): void {
  for (const [k, v] of Object.entries(want)) {
    if (k === 'items') assertCovers(got.items ?? {}, v, `${where}.items`);
    else assert.deepEqual(got[k], v, `${where}.${k}`);
  }
}

function objectSchema(doc: Json, s: Json | undefined): { props: Record<string, Json>; required: string[] } {
  const r = resolve(doc, s);
  return { props: r.properties ?? {}, required: [...(r.required ?? [])].sort() };
}

function componentRefs(s: Json | undefined): string[] {
  if (!s) return [];
  if (s.$ref) return [s.$ref.split('/').pop()];
  return (s.anyOf ?? []).flatMap((b: Json) => componentRefs(b));
}

describe("OpenAPI: our generated document against BFL's", { skip }, () => {
  const bfl: Json = skip ? {} : JSON.parse(readFileSync(BFL_FILE, 'utf8'));
  const ours: Json = buildOpenApi(API_ROUTES, { region: 'us1', version: 'test' });
  const shared = () =>
    Object.entries(bfl.paths as Json).flatMap(([path, ops]) =>
      Object.entries(ops as Json)
        .filter(([method]) => !NOT_SERVED[`${method.toUpperCase()} ${path}`])
        .map(([method, op]) => ({ path, method, op: op as Json, mine: ours.paths[path]?.[method] as Json | undefined })),
    );

  it('serves every BFL route but the ones listed as not served', () => {
    for (const { path, method, mine } of shared()) assert.ok(mine, `${method.toUpperCase()} ${path} is missing`);
    assert.ok(shared().length >= 9);
  });

  it("operationIds are BFL's (generated clients keep their method names)", () => {
    for (const { path, op, mine } of shared()) assert.equal(mine!.operationId, op.operationId, path);
  });

  it('query parameters: same names, types and required-ness', () => {
    for (const { path, op, mine } of shared()) {
      const theirs = (op.parameters ?? []).map((p: Json) => ({ name: p.name, in: p.in, required: !!p.required, ...descriptor(bfl, p.schema) }));
      const our = (mine!.parameters ?? []).map((p: Json) => ({ name: p.name, in: p.in, required: !!p.required, ...descriptor(ours, p.schema) }));
      assert.deepEqual(our, theirs, path);
    }
  });

  it('request bodies: same fields, types, enums, ranges, defaults and required fields', () => {
    for (const { path, op, mine } of shared()) {
      const theirsRef = op.requestBody?.content?.['application/json']?.schema;
      const oursRef = mine!.requestBody?.content?.['application/json']?.schema;
      assert.equal(!!oursRef, !!theirsRef, `${path}: request body presence`);
      if (!theirsRef) continue;
      const a = objectSchema(bfl, theirsRef);
      const b = objectSchema(ours, oursRef);
      assert.deepEqual(Object.keys(b.props).sort(), Object.keys(a.props).sort(), `${path}: field names`);
      for (const field of Object.keys(a.props)) {
        const got = descriptor(ours, b.props[field]!);
        const want = descriptor(bfl, a.props[field]!);
        if (REQUEST_CHOICES[`${path}.${field}`]) assert.deepEqual(got, { ...want, minLength: 1 }, `${path}: ${field}`);
        else assert.deepEqual(got, want, `${path}: ${field}`);
      }
      assert.deepEqual(b.required, a.required, `${path}: required fields`);
      // BFL names its request models; ours carry the same names.
      assert.deepEqual(componentRefs(oursRef), componentRefs(theirsRef), `${path}: component name`);
    }
  });

  it('200 responses: every field BFL documents, with its type; additions only where API.md makes them ours', () => {
    for (const { path, op, mine } of shared()) {
      const theirs = op.responses['200']?.content?.['application/json']?.schema;
      const oursSchema = mine!.responses['200']?.content?.['application/json']?.schema;
      assert.ok(oursSchema, `${path}: our 200 has a JSON schema`);
      const theirNames = componentRefs(theirs);
      if (theirNames.length === 0) continue; // BFL documents no shape (POST /v1/finetune: `{}`)
      for (const name of theirNames) {
        const a = objectSchema(bfl, { $ref: `#/components/schemas/${name}` });
        const b = objectSchema(ours, { $ref: `#/components/schemas/${name}` });
        for (const [field, schema] of Object.entries(a.props)) {
          assert.ok(b.props[field], `${path}: ${name}.${field} missing`);
          const want = descriptor(bfl, schema);
          const got = descriptor(ours, b.props[field]!);
          if (RESPONSE_CHOICES[`${name}.${field}`]) continue;
          assertCovers(got, want, `${path}: ${name}.${field}`);
        }
        for (const field of Object.keys(b.props)) {
          assert.ok(a.props[field] || RESPONSE_CHOICES[`${name}.${field}`], `${path}: ${name}.${field} is ours but not listed as our choice`);
        }
        assert.deepEqual(b.required, a.required, `${path}: ${name} required`);
      }
    }
  });

  it('422 answers are HTTPValidationError, shaped as BFL documents it', () => {
    for (const { path, op, mine } of shared()) {
      if (!op.responses['422']) continue;
      assert.deepEqual(componentRefs(mine!.responses['422']?.content?.['application/json']?.schema), ['HTTPValidationError'], path);
    }
    const a = objectSchema(bfl, { $ref: '#/components/schemas/ValidationError' });
    const b = objectSchema(ours, { $ref: '#/components/schemas/ValidationError' });
    for (const field of Object.keys(a.props)) assert.ok(b.props[field], `ValidationError.${field}`);
    assert.deepEqual(b.required, a.required);
  });

  it('every $ref resolves, every route has examples in curl, Python and TypeScript', () => {
    const refs = JSON.stringify(ours).match(/#\/components\/schemas\/[^"]+/g) ?? [];
    for (const ref of refs) assert.ok(ours.components.schemas[ref.split('/').pop()!], ref);
    for (const ops of Object.values(ours.paths as Json)) {
      for (const op of Object.values(ops as Json)) {
        assert.deepEqual(
          ((op as Json)['x-codeSamples'] as Json[]).map((s) => s.lang),
          ['shell', 'python', 'typescript'],
          (op as Json).operationId,
        );
      }
    }
  });
});
