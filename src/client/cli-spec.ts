// Every command of the CLI declared once: its arguments, flags and one-line help. Usage text,
// per-command --help and the unknown-flag check all come from here.
import { INFERENCE_ENDPOINTS, type InferenceEndpoint } from '../api/inference-schemas.ts';

/** Every generation route, from the route table: what `generate --endpoint` accepts. */
export const GENERATE_ENDPOINTS = Object.keys(INFERENCE_ENDPOINTS) as InferenceEndpoint[];
const endpointList = GENERATE_ENDPOINTS.filter((e) => !e.endsWith('-finetuned'))
  .map((e) => (GENERATE_ENDPOINTS.includes(`${e}-finetuned` as InferenceEndpoint) ? `${e}[-finetuned]` : e))
  .join(', ');

/**
 * generate's flags that are request fields: the field each one sets and how its value is read (file: an
 * image file, sent as base64). A flag whose field the chosen endpoint lacks is a usage error, not a field
 * the server would silently ignore.
 */
export const GENERATE_FIELDS: readonly { flag: string; field: string; read: 'string' | 'number' | 'file' }[] = [
  { flag: 'prompt', field: 'prompt', read: 'string' },
  { flag: 'seed', field: 'seed', read: 'number' },
  { flag: 'strength', field: 'finetune_strength', read: 'number' },
  { flag: 'finetune-strength', field: 'finetune_strength', read: 'number' },
  { flag: 'width', field: 'width', read: 'number' },
  { flag: 'height', field: 'height', read: 'number' },
  { flag: 'aspect-ratio', field: 'aspect_ratio', read: 'string' },
  { flag: 'steps', field: 'steps', read: 'number' },
  { flag: 'guidance', field: 'guidance', read: 'number' },
  { flag: 'safety-tolerance', field: 'safety_tolerance', read: 'number' },
  { flag: 'output-format', field: 'output_format', read: 'string' },
  { flag: 'image-prompt', field: 'image_prompt', read: 'string' },
  { flag: 'image-prompt-strength', field: 'image_prompt_strength', read: 'number' },
  { flag: 'control-image', field: 'control_image', read: 'file' },
  { flag: 'preprocessed-image', field: 'preprocessed_image', read: 'file' },
  { flag: 'canny-low', field: 'canny_low_threshold', read: 'number' },
  { flag: 'canny-low-threshold', field: 'canny_low_threshold', read: 'number' },
  { flag: 'canny-high', field: 'canny_high_threshold', read: 'number' },
  { flag: 'canny-high-threshold', field: 'canny_high_threshold', read: 'number' },
  { flag: 'image', field: 'image', read: 'file' },
  { flag: 'mask', field: 'mask', read: 'file' },
];

export interface FlagSpec {
  name: string;
  /** e.g. "N", "speed|quality|high_res_only"; absent for a switch. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  aliases?: readonly string[];
  args: string;
  summary: string;
  flags: readonly FlagSpec[];
  /** serve / worker / keys: run by src/main, not over HTTP. */
  server?: boolean;
}

/** Accepted by every command. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'json', help: 'machine-readable output' },
  { name: 'help', help: 'this help' },
];

const CLIENT_FLAGS: readonly FlagSpec[] = [
  { name: 'url', value: 'URL', help: 'server base URL (default FLUXTUNE_URL, else http://127.0.0.1:8787)' },
  { name: 'api-key', value: 'KEY', help: 'API key (default BFL_API_KEY, else FLUXTUNE_API_KEY)' },
];
const WEBHOOK_FLAGS: readonly FlagSpec[] = [
  { name: 'webhook-url', value: 'URL', help: 'POST the result there when it is ready' },
  { name: 'webhook-secret', value: 'S', help: 'sent back in X-Webhook-Secret and used to sign the body' },
];
const SERVER_FLAGS: readonly FlagSpec[] = [
  { name: 'data-dir', value: 'DIR', help: 'embedded database and blobs (default ./data, FLUXTUNE_DATA_DIR)' },
  { name: 'backend', value: 'MODULE#EXPORT', help: 'another ModelBackend (default the shipped flux-mini)' },
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'serve',
    server: true,
    args: '',
    summary: 'run the API server (and, unless --no-worker, the model and a job worker)',
    flags: [
      { name: 'port', value: 'N', help: 'default 8787 (PORT)' },
      { name: 'host', value: 'ADDR', help: 'default 127.0.0.1 (HOST)' },
      { name: 'region', value: 'NAME', help: 'default us1 (FLUXTUNE_REGION)' },
      { name: 'worker', help: '--no-worker: an API-only node; `fluxtune worker` processes run the jobs' },
      ...SERVER_FLAGS,
    ],
  },
  {
    name: 'worker',
    server: true,
    args: '',
    summary: 'claim jobs from a shared Postgres (DATABASE_URL)',
    flags: [{ name: 'region', value: 'NAME', help: 'default us1' }, ...SERVER_FLAGS],
  },
  {
    name: 'keys',
    server: true,
    args: 'create [--name N] | list | revoke <id|prefix>',
    summary: 'manage API keys',
    flags: [{ name: 'name', value: 'N', help: 'a label for the new key' }, SERVER_FLAGS[0]!],
  },
  {
    name: 'finetune',
    aliases: ['request_finetuning'],
    args: '<folder|zip> --comment NAME',
    summary: 'train a finetune on 1–20 images (optional .txt captions beside them)',
    flags: [
      { name: 'comment', value: 'NAME', help: 'your name for it (finetune_comment; required)' },
      { name: 'finetune-comment', value: 'NAME', help: 'the same, under its API name' },
      { name: 'mode', value: 'general|character|style|product', help: 'how captions place the trigger word (default general)' },
      { name: 'trigger-word', value: 'WORD', help: 'default TOK' },
      { name: 'iterations', value: 'N', help: '100–1000 training steps (default 300)' },
      { name: 'learning-rate', value: 'X', help: 'default 1e-5 full, 1e-4 lora' },
      { name: 'captioning', help: '--no-captioning: do not auto-caption images without a .txt' },
      { name: 'priority', value: 'speed|quality|high_res_only', help: 'default quality' },
      { name: 'finetune-type', value: 'full|lora', help: 'default full' },
      { name: 'lora-rank', value: '16|32', help: 'default 32' },
      { name: 'wait', help: 'wait for it, with a progress bar' },
      ...WEBHOOK_FLAGS,
      ...CLIENT_FLAGS,
    ],
  },
  { name: 'status', aliases: ['finetune_progress'], args: '<id>', summary: 'get_result of a finetune or a generation', flags: CLIENT_FLAGS },
  {
    name: 'result',
    aliases: ['get_inference', 'get_result'],
    args: '<id>',
    summary: 'show a result; with --out, save the sample image',
    flags: [{ name: 'out', value: 'FILE', help: 'save the image here' }, ...CLIENT_FLAGS],
  },
  { name: 'list', aliases: ['finetune_list'], args: '', summary: 'your finetunes: id, status, created, trigger word, comment', flags: CLIENT_FLAGS },
  { name: 'details', aliases: ['finetune_details'], args: '<finetune_id>', summary: 'parameters, captions and status of a finetune', flags: CLIENT_FLAGS },
  { name: 'delete', aliases: ['finetune_delete'], args: '<finetune_id>', summary: 'cancel (if training) and delete a finetune', flags: CLIENT_FLAGS },
  {
    name: 'generate',
    aliases: ['finetune_inference'],
    args: '[<finetune_id>] --prompt "..." [--endpoint E]',
    summary: 'generate an image, with a finetune (-finetuned endpoints) or without',
    flags: [
      { name: 'prompt', value: 'TEXT', help: 'what to draw; use the trigger word for your concept' },
      { name: 'endpoint', value: 'E', help: `${endpointList} (default flux-pro-1.1-ultra-finetuned)` },
      { name: 'finetune-id', value: 'ID', help: 'the finetune (or as the first argument); -finetuned endpoints only' },
      { name: 'strength', value: 'X', help: 'finetune strength 0–2 (default 1.2)' },
      { name: 'finetune-strength', value: 'X', help: 'the same, under its API name' },
      { name: 'seed', value: 'N', help: 'random when absent' },
      { name: 'width', value: 'W', help: 'flux-pro: 256–1440, a multiple of 32' },
      { name: 'height', value: 'H', help: 'flux-pro: 256–1440, a multiple of 32' },
      { name: 'aspect-ratio', value: 'W:H', help: 'ultra: 21:9 … 9:21 (default 16:9)' },
      { name: 'steps', value: 'N', help: 'flux-pro: 1–50; canny, depth, fill: 15–50' },
      { name: 'guidance', value: 'G', help: 'flux-pro: 1.5–5; canny, depth: 1–100; fill: 1.5–100' },
      { name: 'safety-tolerance', value: 'N', help: '0–6' },
      { name: 'output-format', value: 'jpeg|png', help: 'default jpeg' },
      { name: 'image-prompt', value: 'BASE64', help: 'ultra, flux-pro: an image to start from' },
      { name: 'image-prompt-strength', value: 'X', help: 'ultra: 0–1' },
      { name: 'control-image', value: 'FILE', help: 'canny, depth: the photo whose edges or depth the image follows (its size, ≤ 1 MP)' },
      { name: 'preprocessed-image', value: 'FILE', help: 'canny, depth (base endpoints): the edge or depth map itself' },
      { name: 'canny-low', value: 'N', help: 'canny: low edge threshold 0–500 (default 50)' },
      { name: 'canny-low-threshold', value: 'N', help: 'the same, under its API name' },
      { name: 'canny-high', value: 'N', help: 'canny: high edge threshold 0–500 (default 200)' },
      { name: 'canny-high-threshold', value: 'N', help: 'the same, under its API name' },
      { name: 'image', value: 'FILE', help: 'fill: the image to repaint (transparent pixels are repainted if no --mask)' },
      { name: 'mask', value: 'FILE', help: "fill: white = repaint, black = keep; the image's size" },
      { name: 'wait', help: 'wait for the image, with a progress bar' },
      { name: 'out', value: 'FILE', help: 'wait, then save the image here' },
      ...CLIENT_FLAGS,
    ],
  },
  {
    name: 'download',
    args: '<finetune_id>',
    summary: 'the LoRA as safetensors (default <comment>.<format>.safetensors)',
    flags: [
      { name: 'format', value: 'comfyui|kohya|diffusers|bfl', help: 'default comfyui' },
      { name: 'dtype', value: 'bf16|fp16|fp32', help: 'default bf16' },
      { name: 'out', value: 'FILE', help: 'where to write it' },
      ...CLIENT_FLAGS,
    ],
  },
  {
    name: 'import',
    args: '<file.safetensors> --comment NAME',
    summary: 'a LoRA file (bfl, kohya/ComfyUI or diffusers keys) as a Ready finetune',
    flags: [
      { name: 'comment', value: 'NAME', help: 'your name for it (required)' },
      { name: 'finetune-comment', value: 'NAME', help: 'the same, under its API name' },
      { name: 'trigger-word', value: 'WORD', help: 'default: the one the file records, else TOK' },
      ...WEBHOOK_FLAGS,
      ...CLIENT_FLAGS,
    ],
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  const key = name.replace(/-/g, '_');
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(key));
}

function flagLine(f: FlagSpec): string {
  const left = `  --${f.name}${f.value ? ` ${f.value}` : ''}`;
  return `${left.padEnd(46)} ${f.help}`;
}

/** `fluxtune <command> --help`. */
export function commandHelp(c: CommandSpec): string {
  const aliases = c.aliases?.length ? `\nAlso: ${c.aliases.join(', ')} (the seed script's names)` : '';
  const synopsis = `fluxtune ${c.name} ${c.args}`.trimEnd();
  return `${synopsis}\n\n${c.summary}${aliases}\n\nOptions:\n${[...c.flags, ...GLOBAL_FLAGS].map(flagLine).join('\n')}\n`;
}

/** `fluxtune --help`. */
export function usage(): string {
  const line = (c: CommandSpec) => `  ${`${c.name} ${c.args}`.trimEnd().padEnd(44)} ${c.summary}`;
  return `fluxtune <command> [options]        (fluxtune <command> --help for its options)

Server:
${COMMANDS.filter((c) => c.server)
  .map(line)
  .join('\n')}

Client (BFL_API_KEY or --api-key; FLUXTUNE_URL or --url):
${COMMANDS.filter((c) => !c.server)
  .map(line)
  .join('\n')}

Seed-script names work too: request_finetuning, finetune_progress, finetune_list, finetune_details,
finetune_delete, finetune_inference, get_inference. Add --json for machine-readable output.
Exit codes: 0 done, 1 the server refused or the task failed, 2 a usage error (unknown command or flag, missing argument).`;
}
