import type { UrlSigner } from '../signed-urls.ts';
import type { TaskPhase, TaskRow, TaskStatus } from './task-store.ts';

export interface TaskView {
  id: string;
  status: TaskStatus;
  result: Record<string, unknown> | null;
  progress: number | null;
  details: Record<string, unknown> | null;
  preview: string | null;
  /** Ours: while Pending, what it waits for or what runs (queued, captioning, training, extracting, saving, sampling); null after. */
  phase: TaskPhase | 'queued' | null;
}

/** A task row as get_result (and webhooks) show it. Blob keys become signed URLs, fresh for every call. */
export function renderTask(task: TaskRow, signer: UrlSigner, baseUrl: string): TaskView {
  let result: Record<string, unknown> | null = null;
  if (task.status === 'Ready' && task.result) {
    const { sample_blob, ...rest } = task.result as { sample_blob?: string } & Record<string, unknown>;
    result = sample_blob ? { sample: signer.sign(baseUrl, 'sample', task.id), ...rest } : rest;
  }
  return {
    id: task.id,
    status: task.status,
    result,
    progress: task.progress,
    details: task.details,
    preview: task.preview_blob ? signer.sign(baseUrl, 'preview', task.id) : null,
    phase: task.status === 'Pending' ? (task.phase ?? 'queued') : null,
  };
}
