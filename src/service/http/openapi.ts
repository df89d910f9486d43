import { z } from 'zod';
import { deleteFinetuneSchema, finetuneRequestSchema } from './finetune-schema.ts';
import { INFERENCE_SCHEMAS } from './inference-schemas.ts';

const jsonSchema = (s: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const json = (ref: string) => ({ content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const validationError = { description: 'Validation Error', ...json('HTTPValidationError') };
const forbidden = { description: 'Missing or invalid x-key', ...json('Detail') };

/** OpenAPI 3.1 for every route we serve; request bodies come from the same zod schemas that validate them. */
export function buildOpenApi(region: string): Record<string, unknown> {
  const security = [{ APIKeyHeader: [] }];
  const submit = (schema: string, summary: string, extra: Record<string, unknown> = {}) => ({
    post: {
      summary,
      security,
      requestBody: { required: true, ...json(schema) },
      responses: { '200': { description: 'Accepted', ...json('AsyncResponse') }, '403': forbidden, '422': validationError, '429': { description: 'Too many active tasks', ...json('Detail') }, ...extra },
    },
  });
  const finetunedExtra = {
    '400': { description: 'Finetune not ready', ...json('Detail') },
    '404': { description: 'Finetune not found or access denied', ...json('Detail') },
  };
  const paths: Record<string, unknown> = {
    '/v1/finetune': submit('FinetuneInputs', 'Submit a finetune (base64 ZIP of 1–20 images, optional .txt captions)'),
    '/v1/get_result': {
      get: {
        summary: 'Status, progress and result of a finetune or a generation',
        security,
        parameters: [{ name: 'id', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'Task', ...json('ResultResponse') }, '403': forbidden, '404': { description: 'Task not found', ...json('ResultResponse') }, '422': validationError },
      },
    },
    '/v1/my_finetunes': { get: { summary: "The caller's finetunes, newest first", security, responses: { '200': { description: 'OK', ...json('MyFinetunesResponse') }, '403': forbidden } } },
    '/v1/finetune_details': {
      get: {
        summary: 'Parameters, captions and status of a finetune',
        security,
        parameters: [{ name: 'finetune_id', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'OK', ...json('FinetuneDetailResponse') }, '403': forbidden, '404': { description: 'Not found', ...json('Detail') }, '422': validationError },
      },
    },
    '/v1/delete_finetune': {
      post: {
        summary: 'Cancel (if training) and delete a finetune and all its files',
        security,
        requestBody: { required: true, ...json('DeleteFinetuneInputs') },
        responses: { '200': { description: 'Deleted', ...json('DeleteFinetuneResponse') }, '403': forbidden, '404': { description: 'Not found', ...json('Detail') }, '422': validationError },
      },
    },
    '/v1/files/{kind}/{id}': {
      get: {
        summary: 'Signed, expiring sample/preview image URL (as returned by get_result); no x-key',
        parameters: [
          { name: 'kind', in: 'path', required: true, schema: { type: 'string', enum: ['sample', 'preview'] } },
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'exp', in: 'query', required: true, schema: { type: 'integer' } },
          { name: 'sig', in: 'query', required: true, schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'Image bytes (image/jpeg or image/png)' }, '403': { description: 'Invalid or expired signature' }, '404': { description: 'Gone' } },
      },
    },
  };
  const names: Record<string, string> = {
    'flux-pro': 'FluxProInputs',
    'flux-pro-finetuned': 'FluxProFinetuneInputs',
    'flux-pro-1.1-ultra': 'FluxUltraInput',
    'flux-pro-1.1-ultra-finetuned': 'FinetuneFluxUltraInput',
  };
  for (const endpoint of Object.keys(INFERENCE_SCHEMAS)) {
    paths[`/v1/${endpoint}`] = submit(names[endpoint]!, `Generate with ${endpoint}`, endpoint.endsWith('-finetuned') ? finetunedExtra : {});
  }
  const schemas: Record<string, unknown> = {
    FinetuneInputs: jsonSchema(finetuneRequestSchema),
    DeleteFinetuneInputs: jsonSchema(deleteFinetuneSchema),
    AsyncResponse: { type: 'object', properties: { id: { type: 'string' }, polling_url: { type: 'string' }, finetune_id: { type: 'string' } }, required: ['id'] },
    ResultResponse: {
      type: 'object',
      required: ['id', 'status'],
      properties: {
        id: { type: 'string' },
        status: { type: 'string', enum: ['Task not found', 'Pending', 'Request Moderated', 'Content Moderated', 'Ready', 'Error'] },
        result: {},
        progress: { anyOf: [{ type: 'number' }, { type: 'null' }] },
        details: { anyOf: [{ type: 'object' }, { type: 'null' }] },
        preview: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
    },
    MyFinetunesResponse: { type: 'object', properties: { finetunes: { type: 'array', items: { type: 'string' } } }, required: ['finetunes'] },
    FinetuneDetailResponse: { type: 'object', properties: { finetune_details: { type: 'object' } }, required: ['finetune_details'] },
    DeleteFinetuneResponse: {
      type: 'object',
      properties: { status: { type: 'string' }, message: { type: 'string' }, deleted_finetune_id: { type: 'string' }, timestamp: { type: 'string' } },
      required: ['status', 'message', 'deleted_finetune_id', 'timestamp'],
    },
    Detail: { type: 'object', properties: { detail: { type: 'string' } } },
    HTTPValidationError: {
      type: 'object',
      properties: {
        detail: {
          type: 'array',
          items: { type: 'object', required: ['loc', 'msg', 'type'], properties: { loc: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } }, msg: { type: 'string' }, type: { type: 'string' }, input: {} } },
        },
      },
    },
  };
  for (const [endpoint, schema] of Object.entries(INFERENCE_SCHEMAS)) schemas[names[endpoint]!] = jsonSchema(schema);
  return {
    openapi: '3.1.0',
    info: {
      title: 'fluxtune — BFL-compatible finetuning API',
      version: '0.1.0',
      description: `Self-hosted implementation of Black Forest Labs' FLUX finetuning API. Region: ${region}. Authorize with an API key in the x-key header.`,
    },
    components: { securitySchemes: { APIKeyHeader: { type: 'apiKey', in: 'header', name: 'x-key' } }, schemas },
    paths,
  };
}
