// fluxtune's client commands: the SDK over HTTP. serve/worker/keys are dispatched by src/main/cli.ts
// before this module is reached; it lists them in its usage only.
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { flagBool, flagNumber, flagString, type ParsedArgs } from './cli-args.ts';
import { FluxtuneClient, type ImportParams, type LoraDtype, type LoraFormat } from './client.ts';
import { FluxtuneApiError, FluxtuneValidationError } from './errors.ts';
import { progressBar } from './progress-bar.ts';
import type { FinetunedEndpoint, FinetuneInferenceParams, FinetuneParams, TaskResult } from './types.ts';

const USAGE = `fluxtune <command> [options]

Server:
  serve [--port 8787] [--host 127.0.0.1] [--data-dir ./data] [--region us1] [--no-worker]
  worker                                   claim jobs from a shared Postgres (DATABASE_URL)
  keys create [--name N] | list | revoke <id|prefix>

Client (BFL_API_KEY or --api-key; FLUXTUNE_URL or --url):
  finetune <folder|zip> --comment NAME [--mode general|character|style|product] [--trigger-word TOK]
           [--iterations 300] [--learning-rate X] [--no-captioning] [--priority speed|quality|high_res_only]
           [--finetune-type full|lora] [--lora-rank 16|32] [--webhook-url U --webhook-secret S] [--wait]
  status <id>                              get_result of a finetune or generation
  list                                     your finetunes
  details <finetune_id>
  delete <finetune_id>
  generate <finetune_id> --prompt "..." [--strength 1.2] [--endpoint flux-pro-1.1-ultra-finetuned]
           [--seed N] [--width W --height H | --aspect-ratio 16:9] [--steps N] [--guidance G]
           [--output-format jpeg|png] [--wait] [--out file]
  result <id> [--out file]                 show a result; with --out, save the sample image
  download <finetune_id> [--format comfyui|kohya|diffusers|bfl] [--dtype bf16|fp16|fp32] [--out file]
                                           the LoRA as safetensors (default <comment>.<format>.safetensors)
  import <file.safetensors> --comment NAME [--trigger-word TOK] [--webhook-url U --webhook-secret S]
                                           a LoRA file (bfl, kohya/ComfyUI or diffusers keys) as a Ready finetune

Seed-script names work too: request_finetuning, finetune_progress, finetune_list, finetune_details,
finetune_delete, finetune_inference, get_inference. Add --json for machine-readable output.`;

const ALIASES: Record<string, string> = {
  request_finetuning: 'finetune',
  finetune_progress: 'status',
  finetune_list: 'list',
  finetune_details: 'details',
  finetune_delete: 'delete',
  finetune_inference: 'generate',
  get_inference: 'result',
  get_result: 'result',
};

export async function clientMain(args: ParsedArgs): Promise<void> {
  const raw = args.positionals[0];
  if (!raw || args.flags.get('help') === true) {
    console.log(USAGE);
    return;
  }
  const command = ALIASES[raw.replace(/-/g, '_')] ?? raw;
  const json = args.flags.get('json') === true;
  const client = new FluxtuneClient({ baseUrl: flagString(args, 'url'), apiKey: flagString(args, 'api-key') });
  const id = args.positionals[1];
  const needId = () => {
    if (!id) throw new Error(`usage: fluxtune ${command} <id>`);
    return id;
  };
  switch (command) {
    case 'finetune':
      return finetune(client, args, json);
    case 'status':
    case 'result': {
      const r = await client.getResult(needId());
      const out = flagString(args, 'out');
      if (out) await saveSample(client, r, out);
      return print(r, json);
    }
    case 'list':
      return print(json ? { finetunes: await client.listFinetunes() } : (await client.listFinetunes()).join('\n'), json);
    case 'details':
      return print(await client.finetuneDetails(needId()), json);
    case 'delete':
      return print(await client.deleteFinetune(needId()), json);
    case 'generate':
      return generate(client, needId(), args, json);
    case 'download':
      return download(client, needId(), args, json);
    case 'import':
      return importLora(client, args, json);
    default:
      throw new Error(`unknown command ${raw}\n\n${USAGE}`);
  }
}

async function finetune(client: FluxtuneClient, args: ParsedArgs, json: boolean): Promise<void> {
  const source = args.positionals[1];
  // Seed form: request_finetuning <zip> <finetune_comment>
  const comment = flagString(args, 'comment') ?? flagString(args, 'finetune-comment') ?? args.positionals[2];
  if (!source || !comment) throw new Error('usage: fluxtune finetune <folder|zip> --comment NAME [options]');
  const params: FinetuneParams = { finetune_comment: comment };
  const mode = flagString(args, 'mode');
  if (mode) params.mode = mode as FinetuneParams['mode'];
  const trigger = flagString(args, 'trigger-word');
  if (trigger) params.trigger_word = trigger;
  const iterations = flagNumber(args, 'iterations');
  if (iterations !== undefined) params.iterations = iterations;
  const lr = flagNumber(args, 'learning-rate');
  if (lr !== undefined) params.learning_rate = lr;
  const captioning = flagBool(args, 'captioning');
  if (captioning !== undefined) params.captioning = captioning;
  const priority = flagString(args, 'priority');
  if (priority) params.priority = priority as FinetuneParams['priority'];
  const type = flagString(args, 'finetune-type');
  if (type) params.finetune_type = type as FinetuneParams['finetune_type'];
  const rank = flagNumber(args, 'lora-rank');
  if (rank !== undefined) params.lora_rank = rank as 16 | 32;
  const webhookUrl = flagString(args, 'webhook-url');
  if (webhookUrl) params.webhook_url = webhookUrl;
  const webhookSecret = flagString(args, 'webhook-secret');
  if (webhookSecret) params.webhook_secret = webhookSecret;

  const submitted = await client.requestFinetuning(source, params);
  if (!args.flags.get('wait')) return print(json ? submitted : `id:            ${submitted.finetune_id}`, json);
  if (!json) process.stderr.write(`finetune ${submitted.finetune_id} submitted\n`);
  const bar = progressBar('training');
  try {
    const done = await client.waitFor(submitted.finetune_id, { onProgress: (p, r) => bar.update(p, r.status), intervalMs: 1000 });
    bar.done();
    print(json ? done : `id:       ${done.id}\nstatus:   ${done.status}\nresult:   ${JSON.stringify(done.result)}`, json);
  } catch (err) {
    bar.done();
    throw err;
  }
}

async function generate(client: FluxtuneClient, finetuneId: string, args: ParsedArgs, json: boolean): Promise<void> {
  // Flags are untyped text: the server validates them and its 422 names the field.
  const params: Record<string, unknown> = {};
  const s = (flag: string, key = flag.replace(/-/g, '_')) => {
    const v = flagString(args, flag);
    if (v !== undefined) params[key] = v;
  };
  const n = (flag: string, key = flag.replace(/-/g, '_')) => {
    const v = flagNumber(args, flag);
    if (v !== undefined) params[key] = v;
  };
  s('prompt');
  s('aspect-ratio');
  s('output-format');
  s('image-prompt');
  n('seed');
  n('width');
  n('height');
  n('steps');
  n('guidance');
  n('safety-tolerance');
  n('image-prompt-strength');
  const strength = flagNumber(args, 'strength') ?? flagNumber(args, 'finetune-strength');
  if (strength !== undefined) params.finetune_strength = strength;
  const endpoint = flagString(args, 'endpoint');
  if (endpoint) params.endpoint = endpoint;

  const submitted = await client.finetuneInference(finetuneId, params as FinetuneInferenceParams<FinetunedEndpoint>);
  const out = flagString(args, 'out');
  if (!args.flags.get('wait') && !out) return print(json ? submitted : `finetune_id: ${submitted.id}`, json);
  const bar = progressBar('generating');
  const done = await client.waitFor(submitted.id, { onProgress: (p, r) => bar.update(p, r.status), intervalMs: 300 });
  bar.done();
  if (out) await saveSample(client, done, out);
  print(done, json);
}

async function download(client: FluxtuneClient, finetuneId: string, args: ParsedArgs, json: boolean): Promise<void> {
  // Unchecked here: the server validates format and dtype, and its 422 names the field.
  const format = flagString(args, 'format') as LoraFormat | undefined;
  const dtype = flagString(args, 'dtype') as LoraDtype | undefined;
  const { bytes, filename } = await client.downloadWeightsFile(finetuneId, { format, dtype });
  // The server's name, never a path it could smuggle in; --out is the user's own choice.
  const out = flagString(args, 'out') ?? basename(filename);
  await writeFile(out, bytes);
  if (json) print({ finetune_id: finetuneId, file: out, bytes: bytes.length }, true);
  else process.stderr.write(`saved ${out} (${(bytes.length / 1024 / 1024).toFixed(1)} MB)\n`);
}

async function importLora(client: FluxtuneClient, args: ParsedArgs, json: boolean): Promise<void> {
  const file = args.positionals[1];
  const comment = flagString(args, 'comment') ?? flagString(args, 'finetune-comment') ?? args.positionals[2];
  if (!file || !comment) throw new Error('usage: fluxtune import <file.safetensors> --comment NAME [--trigger-word TOK]');
  const params: ImportParams = { finetune_comment: comment };
  const trigger = flagString(args, 'trigger-word');
  if (trigger) params.trigger_word = trigger;
  const webhookUrl = flagString(args, 'webhook-url');
  if (webhookUrl) params.webhook_url = webhookUrl;
  const webhookSecret = flagString(args, 'webhook-secret');
  if (webhookSecret) params.webhook_secret = webhookSecret;
  const r = await client.importFinetune(file, params);
  print(json ? r : `finetune_id: ${r.finetune_id}\nstatus:      ${r.status}\nlayout:      ${r.layout} (rank ${r.lora_rank}, ${r.modules} modules)`, json);
}

async function saveSample(client: FluxtuneClient, result: TaskResult, out: string): Promise<void> {
  if (result.status !== 'Ready') throw new Error(`task ${result.id} is ${result.status}; nothing to save yet`);
  await writeFile(out, await client.downloadSample(result));
  process.stderr.write(`saved ${out}\n`);
}

function print(value: unknown, json: boolean): void {
  if (typeof value === 'string' && !json) {
    console.log(value);
    return;
  }
  if (json) {
    console.log(JSON.stringify(value));
    return;
  }
  if (value && typeof value === 'object' && 'status' in value && 'id' in value) {
    const r = value as TaskResult;
    console.log(`id:       ${r.id}\nstatus:   ${r.status}\nresult:   ${JSON.stringify(r.result)}\nprogress: ${r.progress}`);
    if (r.details) console.log(`details:  ${JSON.stringify(r.details)}`);
    return;
  }
  console.log(JSON.stringify(value, null, 2));
}

/** A failed command as one readable message on stderr, a 422 as one line per field. */
export function reportCliError(err: unknown): void {
  if (err instanceof FluxtuneValidationError) {
    process.stderr.write(`error: invalid request\n${err.issues.map((i) => `  ${i.loc.join('.')}: ${i.msg}`).join('\n')}\n`);
  } else if (err instanceof FluxtuneApiError) {
    process.stderr.write(`error: ${err.message}\n`);
  } else {
    process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
  }
  process.exitCode = 1;
}
