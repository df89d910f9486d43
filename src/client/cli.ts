// fluxtune's client commands: the SDK over HTTP. serve/worker/keys are dispatched by src/main/cli.ts
// before this module is reached; it lists them in its usage only.
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { INFERENCE_ENDPOINTS } from '../api/inference-schemas.ts';
import { assertKnownFlags, flagBool, flagNumber, flagString, nearest, type ParsedArgs, UsageError } from './cli-args.ts';
import { COMMANDS, type CommandSpec, commandHelp, findCommand, GENERATE_ENDPOINTS, GENERATE_FIELDS, GLOBAL_FLAGS, usage } from './cli-spec.ts';
import { FluxtuneClient, type ImportParams, type LoraDtype, type LoraFormat } from './client.ts';
import { FluxtuneApiError, FluxtuneValidationError } from './errors.ts';
import { progressBar } from './progress-bar.ts';
import type { BaseEndpoint, FinetunedEndpoint, FinetuneInferenceParams, FinetuneParams, InferenceEndpoint, InferenceRequest, TaskResult } from './types.ts';

/**
 * The command a command line names, checked against its declaration (cli-spec.ts): an unknown
 * command or option is a UsageError; `--help` answers with the command's own help. null = help shown.
 */
export function resolveCommand(args: ParsedArgs): CommandSpec | null {
  const raw = args.positionals[0];
  if (!raw) {
    console.log(usage());
    return null;
  }
  const spec = findCommand(raw);
  if (!spec) {
    const near = nearest(
      raw,
      COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]),
    );
    throw new UsageError(`unknown command '${raw}'${near ? `; did you mean '${near}'?` : ''} (fluxtune --help lists them)`);
  }
  if (args.flags.get('help') === true) {
    console.log(commandHelp(spec));
    return null;
  }
  assertKnownFlags(args, spec.name, [...spec.flags, ...GLOBAL_FLAGS]);
  return spec;
}

export async function clientMain(args: ParsedArgs, spec: CommandSpec): Promise<void> {
  const command = spec.name;
  const json = args.flags.get('json') === true;
  const client = new FluxtuneClient({ baseUrl: flagString(args, 'url'), apiKey: flagString(args, 'api-key') });
  const id = args.positionals[1];
  const needId = () => {
    if (!id) throw new UsageError(`usage: fluxtune ${command} ${spec.args}`);
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
      return json ? print({ finetunes: await client.listFinetunes() }, true) : printFinetuneTable(client);
    case 'details':
      return print(await client.finetuneDetails(needId()), json);
    case 'delete':
      return print(await client.deleteFinetune(needId()), json);
    case 'generate':
      return generate(client, args, json);
    case 'download':
      return download(client, needId(), args, json);
    case 'import':
      return importLora(client, args, json);
    default:
      throw new UsageError(`'${command}' is a server command: run it as \`fluxtune ${command}\``);
  }
}

/** One line per finetune, newest first: what a person needs to pick one. */
async function printFinetuneTable(client: FluxtuneClient): Promise<void> {
  const ids = await client.listFinetunes();
  if (ids.length === 0) {
    console.log('no finetunes yet: fluxtune finetune <folder> --comment NAME');
    return;
  }
  console.log(`${'finetune_id'.padEnd(36)}  ${'status'.padEnd(8)}  ${'created'.padEnd(16)}  ${'trigger'.padEnd(10)}  comment`);
  for (const id of ids) {
    const d = await client.finetuneDetails(id);
    const created = d.timestamp.slice(0, 16).replace('T', ' ');
    const status = d.status === 'Pending' ? `${Math.round((d.progress ?? 0) * 100)}%` : d.status;
    console.log(`${id}  ${status.padEnd(8)}  ${created.padEnd(16)}  ${d.trigger_word.padEnd(10)}  ${d.finetune_comment}`);
  }
}

/** What a task is doing, from what get_result says (it has no phase field). */
function phase(r: TaskResult, running: string): string {
  if (r.status !== 'Pending') return r.status;
  return (r.progress ?? 0) > 0 ? running : 'queued';
}

async function finetune(client: FluxtuneClient, args: ParsedArgs, json: boolean): Promise<void> {
  const source = args.positionals[1];
  // Seed form: request_finetuning <zip> <finetune_comment>
  const comment = flagString(args, 'comment') ?? flagString(args, 'finetune-comment') ?? args.positionals[2];
  if (!source || !comment) throw new UsageError('usage: fluxtune finetune <folder|zip> --comment NAME [options] (fluxtune finetune --help)');
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
    const done = await client.waitFor(submitted.finetune_id, { onProgress: (p, r) => bar.update(p, phase(r, 'training')), intervalMs: 1000 });
    bar.done();
    print(json ? done : `id:       ${done.id}\nstatus:   ${done.status}\nresult:   ${JSON.stringify(done.result)}`, json);
  } catch (err) {
    bar.done();
    throw err;
  }
}

async function generate(client: FluxtuneClient, args: ParsedArgs, json: boolean): Promise<void> {
  const endpoint = (flagString(args, 'endpoint') ?? 'flux-pro-1.1-ultra-finetuned') as InferenceEndpoint;
  if (!GENERATE_ENDPOINTS.includes(endpoint)) {
    const near = nearest(endpoint, GENERATE_ENDPOINTS);
    throw new UsageError(`unknown endpoint '${endpoint}'${near ? `; did you mean '${near}'?` : ''} (fluxtune generate --help lists them)`);
  }
  const finetuned = endpoint.endsWith('-finetuned');
  const positional = args.positionals[1];
  const flagId = flagString(args, 'finetune-id');
  if (positional && flagId && positional !== flagId) throw new UsageError(`two finetune ids: '${positional}' and --finetune-id '${flagId}'`);
  const finetuneId = flagId ?? positional;
  if (finetuned && !finetuneId) throw new UsageError(`usage: fluxtune generate <finetune_id> --endpoint ${endpoint} --prompt "..." (or --finetune-id ID)`);
  if (!finetuned && finetuneId) {
    throw new UsageError(`${endpoint} takes no finetune: drop '${finetuneId}', or use --endpoint ${endpoint}-finetuned`);
  }

  // Values are sent as typed: the server validates them and its 422 names the field. A flag whose field
  // this endpoint lacks is refused here, since the server would ignore it without a word.
  const fields = new Set(Object.keys(INFERENCE_ENDPOINTS[endpoint].body.shape));
  const params: Record<string, unknown> = {};
  for (const { flag, field, read } of GENERATE_FIELDS) {
    const raw = flagString(args, flag);
    if (raw === undefined) continue;
    if (!fields.has(field)) throw new UsageError(`--${flag} does not apply to ${endpoint} (it has no ${field}; fluxtune generate --help)`);
    params[field] = read === 'number' ? flagNumber(args, flag) : read === 'file' ? await imageFileBase64(raw, flag) : raw;
  }

  const submitted = finetuned
    ? await client.finetuneInference(finetuneId!, { ...params, endpoint } as FinetuneInferenceParams<FinetunedEndpoint>)
    : await client.generate(endpoint as BaseEndpoint, params as InferenceRequest<BaseEndpoint>);
  const out = flagString(args, 'out');
  if (!args.flags.get('wait') && !out)
    return print(json ? submitted : `id:          ${submitted.id}\n(fluxtune result ${submitted.id} --out image.jpg when it is ready)`, json);
  const bar = progressBar('generating');
  const done = await client.waitFor(submitted.id, { onProgress: (p, r) => bar.update(p, phase(r, 'sampling')), intervalMs: 300 });
  bar.done();
  if (out) await saveSample(client, done, out);
  print(done, json);
}

/** An image file as the base64 the API takes (the CLI's convenience: the SDK and the API take base64 itself). */
async function imageFileBase64(path: string, flag: string): Promise<string> {
  try {
    return (await readFile(path)).toString('base64');
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
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
  if (!file || !comment) throw new UsageError('usage: fluxtune import <file.safetensors> --comment NAME [--trigger-word TOK]');
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

/** A failed command as one readable message on stderr, a 422 as one line per field; exit 2 for usage errors, else 1. */
export function reportCliError(err: unknown): void {
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (err instanceof FluxtuneValidationError) {
    process.stderr.write(`error: invalid request\n${err.issues.map((i) => `  ${i.loc.join('.')}: ${i.msg}`).join('\n')}\n`);
  } else if (err instanceof FluxtuneApiError) {
    process.stderr.write(`error: ${err.message}\n`);
  } else {
    process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
  }
  process.exitCode = 1;
}
