import { z } from 'zod';
import { detailResponse, httpValidationError } from './error-schemas.ts';
import {
  deleteFinetuneResponse,
  deleteFinetuneSchema,
  finetuneDetailResponse,
  finetuneIdQuerySchema,
  finetuneImportResponse,
  finetuneImportSchema,
  finetuneRequestSchema,
  finetuneSubmitResponse,
  finetuneWeightsQuerySchema,
  myFinetunesResponse,
} from './finetune-schemas.ts';
import { type ControlKind, controlKind, INFERENCE_ENDPOINTS, type InferenceEndpoint } from './inference-schemas.ts';
import { getResultQuerySchema, resultResponse, submitResponse } from './result-schemas.ts';
import { defineRoute, type ResponseDoc, type RouteExamples } from './route.ts';

// The whole HTTP surface under /v1, one declaration per route. Handlers live in src/service/http/handlers.

const forbidden = { description: 'Missing or invalid x-key', schema: detailResponse } as const satisfies ResponseDoc;
const invalid = { description: 'Validation Error', schema: httpValidationError } as const satisfies ResponseDoc;
const tooMany = { description: 'Too many active tasks for this key (24)', schema: detailResponse } as const satisfies ResponseDoc;
const finetuneNotFound = { description: 'Finetune not found or access denied (another key or region)', schema: detailResponse } as const satisfies ResponseDoc;

export const finetuneRoute = defineRoute({
  name: 'finetune',
  method: 'POST',
  path: '/v1/finetune',
  auth: 'x-key',
  tag: 'Finetuning',
  summary: 'Submit a finetune',
  description:
    'Trains a finetune on a base64 ZIP of 1–20 images (optional .txt captions). The ZIP is fully validated before the 200: a rejected upload is a 422 that names the file and the reason.',
  body: finetuneRequestSchema,
  responses: { 200: { description: 'Accepted: poll get_result with the id', schema: finetuneSubmitResponse }, 403: forbidden, 422: invalid, 429: tooMany },
  examples: {
    body: { file_data: '<base64 of dataset.zip>', finetune_comment: 'my-first-finetune', mode: 'product', trigger_word: 'TOK', iterations: 300 },
    python: `from bfl_finetune import request_finetuning\n\nr = request_finetuning("dataset.zip", "my-first-finetune", trigger_word="TOK", mode="product", iterations=300)\nprint(r["finetune_id"])`,
    typescript: `import { FluxtuneClient } from 'fluxtune';\n\nconst client = new FluxtuneClient(); // BFL_API_KEY, FLUXTUNE_URL\nconst { finetune_id } = await client.requestFinetuning('my-images/', { finetune_comment: 'my-first-finetune', mode: 'product', iterations: 300 });\nawait client.waitFor(finetune_id, { onProgress: (p) => console.log(p) });`,
  },
});

export const getResultRoute = defineRoute({
  name: 'get_result',
  method: 'GET',
  path: '/v1/get_result',
  auth: 'x-key',
  tag: 'Utility',
  summary: 'Status, progress and result of a finetune or a generation',
  description: 'Sample and preview URLs are signed and expire after 10 minutes; ask again for fresh ones.',
  query: getResultQuerySchema,
  responses: {
    200: { description: 'The task', schema: resultResponse },
    403: forbidden,
    404: { description: 'Task not found (unknown id, another key or region)', schema: resultResponse },
    422: invalid,
  },
  examples: {
    query: { id: '<task or finetune id>' },
    python: `from bfl_finetune import finetune_progress\n\nprint(finetune_progress("<finetune_id>"))  # get_inference(id) for a generation`,
    typescript: `const r = await client.getResult(id); // or client.waitFor(id)\nconsole.log(r.status, r.progress, r.result);`,
  },
});

export const myFinetunesRoute = defineRoute({
  name: 'my_finetunes',
  method: 'GET',
  path: '/v1/my_finetunes',
  auth: 'x-key',
  tag: 'Finetuning',
  summary: "The caller's finetunes, newest first",
  responses: { 200: { description: 'Finetune ids', schema: myFinetunesResponse }, 403: forbidden },
  examples: {
    python: `from bfl_finetune import finetune_list\n\nprint(finetune_list()["finetunes"])`,
    typescript: `const ids = await client.listFinetunes();`,
  },
});

export const finetuneDetailsRoute = defineRoute({
  name: 'finetune_details',
  method: 'GET',
  path: '/v1/finetune_details',
  auth: 'x-key',
  tag: 'Finetuning',
  summary: 'Parameters, captions and status of a finetune; its training (phase, loss, previews) and its generations',
  query: finetuneIdQuerySchema,
  responses: { 200: { description: 'Details', schema: finetuneDetailResponse }, 403: forbidden, 404: finetuneNotFound, 422: invalid },
  examples: {
    query: { finetune_id: '<finetune_id>' },
    python: `from bfl_finetune import finetune_details\n\nprint(finetune_details("<finetune_id>")["finetune_details"])`,
    typescript: `const details = await client.finetuneDetails(finetuneId);\nconsole.log(details.captions);`,
  },
});

export const deleteFinetuneRoute = defineRoute({
  name: 'delete_finetune',
  method: 'POST',
  path: '/v1/delete_finetune',
  auth: 'x-key',
  tag: 'Finetuning',
  summary: 'Cancel (if training) and delete a finetune and all its files',
  body: deleteFinetuneSchema,
  responses: { 200: { description: 'Deleted', schema: deleteFinetuneResponse }, 403: forbidden, 404: finetuneNotFound, 422: invalid },
  examples: {
    body: { finetune_id: '<finetune_id>' },
    python: `from bfl_finetune import finetune_delete\n\nprint(finetune_delete("<finetune_id>"))`,
    typescript: `await client.deleteFinetune(finetuneId);`,
  },
});

export const filesRoute = defineRoute({
  name: 'files',
  method: 'GET',
  path: '/v1/files/:kind/:id',
  auth: 'signed-url',
  tag: 'Utility',
  extension: true,
  summary: 'A sample or preview image, by the signed URL that get_result or finetune_details hands out',
  description:
    "No x-key: the signature is the credential. URLs expire after 10 minutes. `step` picks one of a finetune's previews (finetune_details.training.previews); without it, the latest.",
  params: z.object({ kind: z.enum(['sample', 'preview']), id: z.string() }),
  query: z.object({
    step: z
      .string()
      .regex(/^\d{1,6}$/)
      .optional(),
    exp: z.string().optional(),
    sig: z.string().optional(),
  }),
  responses: {
    200: { description: 'The image', contentTypes: ['image/jpeg', 'image/png'] },
    403: { description: 'Invalid or expired signature', schema: detailResponse },
    404: { description: 'Gone', schema: detailResponse },
  },
  examples: {
    python: `import requests\nfrom bfl_finetune import get_inference\n\nr = get_inference("<id>")\nopen("sample.jpg", "wb").write(requests.get(r["result"]["sample"]).content)`,
    typescript: `const bytes = await client.downloadSample(await client.waitFor(id));`,
  },
});

export const finetuneWeightsRoute = defineRoute({
  name: 'finetune_weights',
  method: 'GET',
  path: '/v1/finetune_weights',
  auth: 'x-key',
  tag: 'Finetuning',
  extension: true,
  summary: "Download a finetune's LoRA as a safetensors file",
  description:
    "The caller's own Ready finetune in this region, as a file ComfyUI, kohya's sd-scripts or diffusers loads (attachment; the name is `<finetune_comment>.<format>.safetensors`). " +
    "The metadata records the base model and its sha256, the trigger word, rank, alpha (= rank) and the training parameters, under kohya's `ss_*` names where they exist.",
  query: finetuneWeightsQuerySchema,
  responses: {
    200: { description: 'The LoRA', contentTypes: ['application/octet-stream'] },
    400: { description: 'Finetune not ready', schema: detailResponse },
    403: forbidden,
    404: finetuneNotFound,
    422: invalid,
  },
  examples: {
    query: { finetune_id: '<finetune_id>', format: 'comfyui', dtype: 'bf16' },
    python: `import os, requests\n\nr = requests.get("http://127.0.0.1:8787/v1/finetune_weights", headers={"x-key": os.environ["BFL_API_KEY"]}, params={"finetune_id": "<finetune_id>", "format": "comfyui", "dtype": "bf16"})\nr.raise_for_status()\nopen("my-lora.safetensors", "wb").write(r.content)`,
    typescript: `const bytes = await client.downloadWeights(finetuneId, { format: 'comfyui', dtype: 'bf16' });\n// or: npx fluxtune download <finetune_id> --format comfyui --out my-lora.safetensors`,
  },
});

export const finetuneImportRoute = defineRoute({
  name: 'finetune_import',
  method: 'POST',
  path: '/v1/finetune_import',
  auth: 'x-key',
  tag: 'Finetuning',
  extension: true,
  summary: 'Import a LoRA file as a finetune',
  description:
    'A safetensors LoRA for the served base model, in any layout finetune_weights writes, becomes a finetune that is Ready at once (no training) and works with every -finetuned endpoint. ' +
    'The file is checked before the 200: an unreadable file, an unknown layout, a module this model lacks, a wrong shape or a rank the model cannot apply is a 422 that names the key. ' +
    'finetune_details shows it with iterations 0 and no images.',
  body: finetuneImportSchema,
  responses: { 200: { description: 'Imported and Ready', schema: finetuneImportResponse }, 403: forbidden, 422: invalid },
  examples: {
    body: { file_data: '<base64 of my-lora.safetensors>', finetune_comment: 'my-imported-lora', trigger_word: 'TOK' },
    python: `import base64, os, requests\n\nfile_data = base64.b64encode(open("my-lora.safetensors", "rb").read()).decode()\nr = requests.post("http://127.0.0.1:8787/v1/finetune_import", headers={"x-key": os.environ["BFL_API_KEY"]}, json={"file_data": file_data, "finetune_comment": "my-imported-lora"}).json()\nprint(r["finetune_id"])`,
    typescript: `const { finetune_id } = await client.importFinetune('my-lora.safetensors', { finetune_comment: 'my-imported-lora', trigger_word: 'TOK' });\nconst { id } = await client.finetuneInference(finetune_id, { endpoint: 'flux-pro-finetuned', prompt: 'a photo of TOK' });`,
  },
});

/** What a structural route's examples send: the files they read, and the fields those become. */
const STRUCTURAL_EXAMPLES = {
  canny: {
    prompt: 'a red apple on a wooden table',
    files: { control_image: 'photo.jpg' },
    extra: { canny_low_threshold: 50, canny_high_threshold: 200 },
  },
  depth: { prompt: 'a red apple on a wooden table', files: { control_image: 'photo.jpg' }, extra: {} },
  fill: { prompt: 'a bowl of cherries', files: { image: 'table.png', mask: 'mask.png' }, extra: {} },
} as const satisfies Record<ControlKind, { prompt: string; files: Record<string, string>; extra: Record<string, number> }>;

function inferenceExamples(endpoint: InferenceEndpoint, finetuned: boolean): RouteExamples {
  const kind = controlKind(endpoint);
  if (!kind) {
    const exampleBody: Record<string, unknown> = finetuned
      ? { finetune_id: '<finetune_id>', finetune_strength: 1.2, prompt: 'a photo of TOK on a beach' }
      : { prompt: 'a red apple on a wooden table' };
    const pyArgs = Object.entries(exampleBody).filter(([k]) => k !== 'finetune_id' && k !== 'finetune_strength');
    return {
      body: exampleBody,
      python: finetuned
        ? `from bfl_finetune import finetune_inference, get_inference\n\nr = finetune_inference("<finetune_id>", finetune_strength=1.2, endpoint="${endpoint}", ${pyArgs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})\nprint(get_inference(r["id"]))`
        : `import os, requests\n\nr = requests.post("http://127.0.0.1:8787/v1/${endpoint}", headers={"x-key": os.environ["BFL_API_KEY"]}, json=${JSON.stringify(exampleBody)}).json()\nprint(r["polling_url"])`,
      typescript: finetuned
        ? `const { id } = await client.finetuneInference(finetuneId, { endpoint: '${endpoint}', prompt: 'a photo of TOK on a beach', finetune_strength: 1.2 });\nconst image = await client.downloadSample(await client.waitFor(id));`
        : `const { id } = await client.generate('${endpoint}', { prompt: 'a red apple on a wooden table' });\nconst image = await client.downloadSample(await client.waitFor(id));`,
    };
  }
  // Images travel as base64 in the JSON body: each example reads its files and encodes them.
  const ex = STRUCTURAL_EXAMPLES[kind];
  const prompt = finetuned ? `a photo of TOK: ${ex.prompt}` : ex.prompt;
  const files = Object.entries(ex.files);
  const body: Record<string, unknown> = {
    ...(finetuned ? { finetune_id: '<finetune_id>', finetune_strength: 1.1 } : {}),
    prompt,
    ...Object.fromEntries(files.map(([field, file]) => [field, `<base64 of ${file}>`])),
    ...ex.extra,
  };
  const pyFields = [
    `prompt=${JSON.stringify(prompt)}`,
    ...files.map(([field, file]) => `${field}=b64("${file}")`),
    ...Object.entries(ex.extra).map(([k, v]) => `${k}=${v}`),
  ];
  const pyB64 = `def b64(path):\n    return base64.b64encode(open(path, "rb").read()).decode()\n\n`;
  const tsFields = [
    ...(finetuned ? [`endpoint: '${endpoint}'`] : []),
    `prompt: '${prompt}'`,
    ...files.map(([field, file]) => `${field}: await b64('${file}')`),
    ...Object.entries(ex.extra).map(([k, v]) => `${k}: ${v}`),
    ...(finetuned ? ['finetune_strength: 1.1'] : []),
  ].join(', ');
  const tsB64 = `import { readFile } from 'node:fs/promises';\n\nconst b64 = async (path: string) => (await readFile(path)).toString('base64');\n`;
  return {
    body,
    python: finetuned
      ? `import base64\nfrom bfl_finetune import finetune_inference, get_inference\n\n${pyB64}r = finetune_inference("<finetune_id>", finetune_strength=1.1, endpoint="${endpoint}", ${pyFields.join(', ')})\nprint(get_inference(r["id"]))`
      : `import base64, os, requests\n\n${pyB64}r = requests.post("http://127.0.0.1:8787/v1/${endpoint}", headers={"x-key": os.environ["BFL_API_KEY"]}, json=dict(${pyFields.join(', ')})).json()\nprint(r["polling_url"])`,
    typescript: finetuned
      ? `${tsB64}const { id } = await client.finetuneInference(finetuneId, { ${tsFields} });\nconst sample = await client.downloadSample(await client.waitFor(id));\n// or: npx fluxtune generate --endpoint ${endpoint} --finetune-id <finetune_id> ${cliFlags(kind)}`
      : `${tsB64}const { id } = await client.generate('${endpoint}', { ${tsFields} });\nconst sample = await client.downloadSample(await client.waitFor(id));\n// or: npx fluxtune generate --endpoint ${endpoint} ${cliFlags(kind)}`,
  };
}

function cliFlags(kind: ControlKind): string {
  const ex = STRUCTURAL_EXAMPLES[kind];
  const files = Object.entries(ex.files)
    .map(([field, file]) => `--${field.replace(/_/g, '-')} ${file}`)
    .join(' ');
  return `--prompt "${ex.prompt}" ${files} --out out.jpg`;
}

const STRUCTURAL_DESCRIPTION: Record<ControlKind, string> = {
  canny: 'The output follows the edges of control_image (found with the Canny thresholds), or of preprocessed_image taken as the edge map itself.',
  depth: 'The output follows the depth structure of control_image, or of preprocessed_image taken as the depth map itself.',
  fill: 'Repaints where the mask is white (or, without a mask, where the image is transparent) and keeps the rest of the image.',
};

function inferenceRoute<const E extends InferenceEndpoint>(endpoint: E) {
  const spec = INFERENCE_ENDPOINTS[endpoint];
  const finetuned = endpoint.endsWith('-finetuned');
  const kind = controlKind(endpoint);
  return defineRoute({
    name: spec.handler,
    method: 'POST',
    path: `/v1/${endpoint}`,
    auth: 'x-key',
    tag: finetuned ? 'Finetune inference' : 'Inference',
    summary: spec.summary,
    ...(kind
      ? {
          description: `${STRUCTURAL_DESCRIPTION[kind]} No size fields: the output has the input image's size, scaled down to at most 1 MP (aspect ratio kept) when larger. An image that cannot be decoded is a 422 naming its field.`,
        }
      : {}),
    body: spec.body,
    responses: {
      200: { description: 'Accepted: poll get_result with the id (or wait for the webhook)', schema: submitResponse },
      ...((finetuned ? { 400: { description: 'Finetune not ready', schema: detailResponse }, 404: finetuneNotFound } : {}) as Record<number, ResponseDoc>),
      403: forbidden,
      422: invalid,
      429: tooMany,
    },
    examples: inferenceExamples(endpoint, finetuned),
  });
}

export const inferenceRoutes = {
  'flux-pro-1.1-ultra': inferenceRoute('flux-pro-1.1-ultra'),
  'flux-pro-1.1-ultra-finetuned': inferenceRoute('flux-pro-1.1-ultra-finetuned'),
  'flux-pro': inferenceRoute('flux-pro'),
  'flux-pro-finetuned': inferenceRoute('flux-pro-finetuned'),
  'flux-pro-1.0-canny': inferenceRoute('flux-pro-1.0-canny'),
  'flux-pro-1.0-canny-finetuned': inferenceRoute('flux-pro-1.0-canny-finetuned'),
  'flux-pro-1.0-depth': inferenceRoute('flux-pro-1.0-depth'),
  'flux-pro-1.0-depth-finetuned': inferenceRoute('flux-pro-1.0-depth-finetuned'),
  'flux-pro-1.0-fill': inferenceRoute('flux-pro-1.0-fill'),
  'flux-pro-1.0-fill-finetuned': inferenceRoute('flux-pro-1.0-fill-finetuned'),
} satisfies { [E in InferenceEndpoint]: ReturnType<typeof inferenceRoute<E>> };

/** Every /v1 route, in the order the docs list them. */
export const API_ROUTES = [
  finetuneRoute,
  getResultRoute,
  myFinetunesRoute,
  finetuneDetailsRoute,
  deleteFinetuneRoute,
  finetuneWeightsRoute,
  finetuneImportRoute,
  ...Object.values(inferenceRoutes),
  filesRoute,
] as const;
