import { readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import type { finetuneImportResponse, finetuneImportSchema, finetuneWeightsQuerySchema } from '../api/finetune-schemas.ts';
import { errorFor, FluxtuneConnectionError, FluxtuneTaskFailedError } from './errors.ts';
import type {
  BaseEndpoint,
  DeleteResponse,
  FinetuneDetails,
  FinetunedEndpoint,
  FinetuneInferenceParams,
  FinetuneOutput,
  FinetuneParams,
  FinetuneSubmitResponse,
  GenerationOutput,
  InferenceRequest,
  ReadyTask,
  SubmitResponse,
  TaskResult,
} from './types.ts';
import { zipFolder } from './zip-folder.ts';

export interface FluxtuneClientOptions {
  /** Default: FLUXTUNE_URL, else http://127.0.0.1:8787. BFL's own base URL works too. */
  baseUrl?: string;
  /** Default: BFL_API_KEY (as the seed script), else FLUXTUNE_API_KEY. */
  apiKey?: string;
  fetch?: typeof fetch;
}

type WeightsQuery = z.input<typeof finetuneWeightsQuerySchema>;
/** GET /v1/finetune_weights options: format defaults to comfyui (kohya-style keys), dtype to bf16. */
export type WeightsOptions = Omit<WeightsQuery, 'finetune_id'>;
export type LoraFormat = NonNullable<WeightsOptions['format']>;
export type LoraDtype = NonNullable<WeightsOptions['dtype']>;
/** POST /v1/finetune_import without file_data (the SDK reads and encodes the file). */
export type ImportParams = Omit<z.input<typeof finetuneImportSchema>, 'file_data'>;
export type FinetuneImportResponse = z.output<typeof finetuneImportResponse>;

/** The params argument may be left out only where the endpoint requires no field (the structural ones require their prompt and images). */
type ParamsArgument<P> = Partial<P> extends P ? [params?: P] : [params: P];

export interface WaitOptions {
  onProgress?(progress: number | null, result: TaskResult): void;
  intervalMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Typed client for the BFL finetuning API. HTTP only: works against fluxtune or any BFL-compatible server. */
export class FluxtuneClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly doFetch: typeof fetch;

  constructor(o: FluxtuneClientOptions = {}) {
    this.baseUrl = (o.baseUrl ?? process.env.FLUXTUNE_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
    const key = o.apiKey ?? process.env.BFL_API_KEY ?? process.env.FLUXTUNE_API_KEY;
    if (!key) throw new Error('Provide your API key via the apiKey option or an environment variable BFL_API_KEY');
    this.apiKey = key;
    const base = o.fetch ?? fetch;
    // A refused connection says where it looked and how to start a server, instead of "fetch failed".
    this.doFetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      try {
        return await base(input, init);
      } catch (err) {
        if (init?.signal?.aborted) throw err;
        throw new FluxtuneConnectionError(this.baseUrl, err);
      }
    }) as typeof fetch;
  }

  private async request<T>(method: 'GET' | 'POST', path: string, opts: { query?: Record<string, string>; body?: unknown } = {}): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const res = await this.doFetch(url, {
      method,
      headers: { 'content-type': 'application/json', 'x-key': this.apiKey },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {}
    if (!res.ok) throw errorFor(res.status, body);
    return body as T;
  }

  /**
   * Starts a finetune. `data` is a ZIP path, a folder (zipped for you), ZIP bytes, or base64 already.
   * (seed: request_finetuning)
   */
  async requestFinetuning(data: string | Uint8Array | { base64: string }, params: FinetuneParams): Promise<FinetuneSubmitResponse> {
    const file_data = await toBase64Zip(data);
    return this.request('POST', '/v1/finetune', { body: { mode: 'general', ...params, file_data } });
  }

  /** get_result for any task id. (seed: finetune_progress / get_inference) */
  getResult(id: string): Promise<TaskResult> {
    // The wire schema types result loosely (any object); this client narrows it by status.
    return this.request('GET', '/v1/get_result', { query: { id } });
  }

  finetuneProgress(finetuneId: string): Promise<TaskResult> {
    return this.getResult(finetuneId);
  }

  getInference(id: string): Promise<TaskResult> {
    return this.getResult(id);
  }

  /** (seed: finetune_list) */
  async listFinetunes(): Promise<string[]> {
    return (await this.request<{ finetunes: string[] }>('GET', '/v1/my_finetunes')).finetunes;
  }

  async finetuneDetails(finetuneId: string): Promise<FinetuneDetails> {
    return (await this.request<{ finetune_details: FinetuneDetails }>('GET', '/v1/finetune_details', { query: { finetune_id: finetuneId } })).finetune_details;
  }

  /** (seed: finetune_delete) */
  deleteFinetune(finetuneId: string): Promise<DeleteResponse> {
    return this.request('POST', '/v1/delete_finetune', { body: { finetune_id: finetuneId } });
  }

  /**
   * Generation with a finetune; defaults like the seed: ultra-finetuned at strength 1.2. The fields
   * are the chosen endpoint's: a misspelt field or one another endpoint has does not compile.
   */
  finetuneInference<E extends FinetunedEndpoint = 'flux-pro-1.1-ultra-finetuned'>(
    finetuneId: string,
    ...[params]: ParamsArgument<FinetuneInferenceParams<E>>
  ): Promise<SubmitResponse> {
    const { endpoint = 'flux-pro-1.1-ultra-finetuned', finetune_strength = 1.2, ...rest } = (params ?? {}) as FinetuneInferenceParams<E>;
    return this.request('POST', `/v1/${endpoint}`, { body: { ...rest, finetune_id: finetuneId, finetune_strength } });
  }

  /**
   * Generation without a finetune: flux-pro, flux-pro-1.1-ultra, and the structural flux-pro-1.0-canny,
   * -depth (control_image or preprocessed_image, base64) and -fill (image and optional mask, base64).
   */
  generate<E extends BaseEndpoint>(endpoint: E, ...[params]: ParamsArgument<InferenceRequest<E>>): Promise<SubmitResponse> {
    return this.request('POST', `/v1/${endpoint}`, { body: params ?? {} });
  }

  /**
   * Polls until the task is no longer Pending. Resolves with the Ready result (say which kind:
   * `waitFor<GenerationOutput>(id)` gives `result.sample` as a string); rejects with FluxtuneTaskFailedError otherwise.
   */
  async waitFor<R extends GenerationOutput | FinetuneOutput = GenerationOutput | FinetuneOutput>(id: string, o: WaitOptions = {}): Promise<ReadyTask<R>> {
    const deadline = o.timeoutMs ? Date.now() + o.timeoutMs : Infinity;
    let interval = o.intervalMs ?? 500;
    for (;;) {
      o.signal?.throwIfAborted();
      const r = await this.getResult(id);
      o.onProgress?.(r.progress ?? null, r);
      if (r.status === 'Ready') return r as ReadyTask<R>;
      if (r.status !== 'Pending') throw new FluxtuneTaskFailedError(r);
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${id} (last status ${r.status})`);
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), o.signal);
      interval = Math.min(interval * 1.2, 5_000);
    }
  }

  /** A Ready finetune's LoRA as a safetensors file, and the name the server gives it (`<comment>.<format>.safetensors`). */
  async downloadWeightsFile(finetuneId: string, o: WeightsOptions = {}): Promise<{ bytes: Uint8Array; filename: string }> {
    const url = new URL(`${this.baseUrl}/v1/finetune_weights`);
    url.searchParams.set('finetune_id', finetuneId);
    if (o.format) url.searchParams.set('format', o.format);
    if (o.dtype) url.searchParams.set('dtype', o.dtype);
    const res = await this.doFetch(url, { headers: { 'x-key': this.apiKey } });
    if (!res.ok) {
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      throw errorFor(res.status, body);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { bytes, filename: attachmentName(res.headers.get('content-disposition')) ?? `${finetuneId}.${o.format ?? 'comfyui'}.safetensors` };
  }

  /** A Ready finetune's LoRA (safetensors bytes) in the layout and dtype asked for. */
  async downloadWeights(finetuneId: string, o: WeightsOptions = {}): Promise<Uint8Array> {
    return (await this.downloadWeightsFile(finetuneId, o)).bytes;
  }

  /** Makes a finetune of a LoRA file (a path, bytes, or base64 already); it is Ready at once. */
  async importFinetune(file: string | Uint8Array | { base64: string }, params: ImportParams): Promise<FinetuneImportResponse> {
    const file_data =
      file instanceof Uint8Array ? Buffer.from(file).toString('base64') : typeof file === 'object' ? file.base64 : (await readFile(file)).toString('base64');
    return this.request('POST', '/v1/finetune_import', { body: { ...params, file_data } });
  }

  /** Downloads the image of a Ready generation (the signed URL needs no key). */
  async downloadSample(result: TaskResult): Promise<Uint8Array> {
    const url = result.status === 'Ready' && 'sample' in result.result ? result.result.sample : undefined;
    if (typeof url !== 'string') throw new Error(`task ${result.id} has no sample`);
    const res = await this.doFetch(url);
    if (!res.ok) throw errorFor(res.status, await res.text());
    return new Uint8Array(await res.arrayBuffer());
  }
}

/** The file name of a Content-Disposition header: `filename*` (RFC 5987) first, else `filename`; never a path. */
function attachmentName(header: string | null): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  let name: string | undefined;
  if (star) {
    try {
      name = decodeURIComponent(star[1]!.trim());
    } catch {}
  }
  name ??= /filename\s*=\s*"([^"]*)"/i.exec(header)?.[1] ?? /filename\s*=\s*([^;\s]+)/i.exec(header)?.[1];
  const base = name?.split(/[/\\]/).pop()?.trim();
  return base && base !== '.' && base !== '..' ? base : undefined;
}

async function toBase64Zip(data: string | Uint8Array | { base64: string }): Promise<string> {
  if (data instanceof Uint8Array) return Buffer.from(data).toString('base64');
  if (typeof data === 'object') return data.base64;
  const info = await stat(data);
  return (info.isDirectory() ? await zipFolder(data) : await readFile(data)).toString('base64');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
