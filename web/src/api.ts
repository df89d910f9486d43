// The dashboard's only way to the server: the public /v1 routes with the x-key header, as the SDK uses them.
// Types come from the wire contract (src/api), imported as types only: nothing of it is bundled.
import type { z } from 'zod';
import type { finetuneDetails, finetuneRequestSchema } from '../../src/api/finetune-schemas.ts';
import type { InferenceEndpoint } from '../../src/api/inference-schemas.ts';
import type { resultResponse } from '../../src/api/result-schemas.ts';
import { errorSentences } from './error-sentences.ts';

export type FinetuneDetails = z.output<typeof finetuneDetails>;
export type FinetuneRequest = z.input<typeof finetuneRequestSchema>;
export type TaskResult = z.output<typeof resultResponse>;
export type { InferenceEndpoint };

const KEY_STORAGE = 'fluxtune-key';

export const storedKey = (): string => localStorage.getItem(KEY_STORAGE) ?? '';
export const storeKey = (key: string): void => localStorage.setItem(KEY_STORAGE, key);

/** A refused request: one sentence per problem, naming the field (and the file, for a dataset). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly sentences: string[],
  ) {
    super(sentences.join(' '));
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { 'x-key': storedKey(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, ['The server could not be reached. Is fluxtune still running?']);
  }
  const json = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) throw new ApiError(res.status, errorSentences(res.status, json));
  return json as T;
}

const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

export const api = {
  myFinetunes: (signal?: AbortSignal) => call<{ finetunes: string[] }>('GET', '/v1/my_finetunes', undefined, signal).then((r) => r.finetunes),
  details: (id: string, signal?: AbortSignal) =>
    call<{ finetune_details: FinetuneDetails }>('GET', `/v1/finetune_details?${query({ finetune_id: id })}`, undefined, signal).then((r) => r.finetune_details),
  result: (id: string) => call<TaskResult>('GET', `/v1/get_result?${query({ id })}`),
  finetune: (body: FinetuneRequest) => call<{ finetune_id: string }>('POST', '/v1/finetune', body),
  deleteFinetune: (id: string) => call<{ message: string }>('POST', '/v1/delete_finetune', { finetune_id: id }),
  generate: (endpoint: InferenceEndpoint, body: Record<string, unknown>) => call<{ id: string }>('POST', `/v1/${endpoint}`, body),

  /** The LoRA as a file: the route needs the x-key header, which a plain link cannot send, so it is fetched and saved from a blob. */
  async downloadWeights(id: string, format: string, dtype: string): Promise<void> {
    const res = await fetch(`/v1/finetune_weights?${query({ finetune_id: id, format, dtype })}`, { headers: { 'x-key': storedKey() } });
    if (!res.ok) throw new ApiError(res.status, errorSentences(res.status, await res.json().catch(() => null)));
    const disposition = res.headers.get('content-disposition') ?? '';
    const name = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? /filename="([^"]+)"/i.exec(disposition)?.[1];
    saveBlob(await res.blob(), name ? decodeURIComponent(name) : `${id}.${format}.safetensors`);
  },
};

export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: fileName });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** Polls get_result until the task leaves Pending; onProgress sees each 0–1 fraction. */
export async function waitForTask(id: string, onProgress: (p: number) => void, everyMs = 500): Promise<TaskResult> {
  for (;;) {
    const r = await api.result(id);
    if (r.status !== 'Pending') return r;
    onProgress(r.progress ?? 0);
    await new Promise((ok) => setTimeout(ok, everyMs));
  }
}
