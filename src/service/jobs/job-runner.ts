import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Captioner } from '../../dataset/captioner.ts';
import type { ModelBackend } from '../../model/backend.ts';
import { finetunePrefix, taskPrefix } from '../blob-keys.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Db } from '../storage/db.ts';
import { getTaskById, markTaskError } from '../tasks/task-store.ts';
import { enqueueWebhook } from '../webhooks/webhook-outbox.ts';
import type { JobContext } from './job-context.ts';
import { isPermanent, JobAbandoned, PermanentJobError } from './job-errors.ts';
import { type ClaimedJob, claimJob, failJob, heartbeat, releaseJob, retryJobLater } from './queue.ts';
import { runFinetuneJob } from './run-finetune.ts';
import { runGenerationJob } from './run-generation.ts';

export interface JobRunnerOptions {
  db: Db;
  blobs: BlobStore;
  backend: ModelBackend;
  captioner: Captioner;
  leaseMs: number;
  retryBackoffMs: number;
  /**
   * One loop per entry, each taking only the listed kinds. The default gives generations their own
   * lane so a sample does not wait for a 10-minute finetune to finish.
   */
  slots?: (readonly ('finetune' | 'generate')[])[];
  pollMs?: number;
  onFinished?(): void;
  log?(msg: string): void;
}

/** Claims jobs from the queue and runs them; any number of runners (processes) can share one database. */
export class JobRunner {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, AbortController>();
  private readonly wakers = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private stopping = false;

  constructor(private readonly o: JobRunnerOptions) {}

  start(): void {
    this.stopping = false;
    const slots = this.o.slots ?? [['finetune', 'generate'], ['generate']];
    this.loops = slots.map((kinds) => this.loop(kinds));
  }

  /** A job was enqueued in this process: look now instead of at the next poll. */
  notify(): void {
    for (const wake of this.wakers) wake();
  }

  /** Aborts the job if this runner is running it (delete_finetune). Other runners notice via their heartbeat. */
  cancel(id: string): void {
    this.active.get(id)?.abort(new JobAbandoned('cancelled'));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.active.values()) c.abort(new JobAbandoned('runner stopping'));
    this.notify();
    await Promise.allSettled(this.loops);
  }

  private async loop(kinds: readonly ('finetune' | 'generate')[]): Promise<void> {
    while (!this.stopping) {
      let job: ClaimedJob | null = null;
      try {
        job = await claimJob(this.o.db, this.owner, this.o.leaseMs, kinds);
      } catch (err) {
        this.o.log?.(`claim failed: ${(err as Error).message}`);
      }
      if (job) await this.run(job);
      else await this.idle(this.o.pollMs ?? 500);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private async run(job: ClaimedJob): Promise<void> {
    const controller = new AbortController();
    this.active.set(job.id, controller);
    // The lease is renewed well before it can expire; losing it (row deleted = finetune deleted) cancels the job.
    const beat = setInterval(
      () => {
        heartbeat(this.o.db, job.id, this.owner, this.o.leaseMs)
          .then((held) => {
            if (!held) controller.abort(new JobAbandoned('lease lost or job deleted'));
          })
          .catch(() => {});
      },
      Math.max(50, Math.floor(this.o.leaseMs / 3)),
    );
    const ctx: JobContext = {
      db: this.o.db,
      blobs: this.o.blobs,
      backend: this.o.backend,
      captioner: this.o.captioner,
      job,
      owner: this.owner,
      signal: controller.signal,
      onFinished: () => this.o.onFinished?.(),
      log: (msg) => this.o.log?.(msg),
    };
    try {
      if (job.attempts > job.max_attempts) throw new PermanentJobError(`gave up after ${job.max_attempts} attempts`);
      await (job.kind === 'finetune' ? runFinetuneJob(ctx) : runGenerationJob(ctx));
    } catch (err) {
      await this.handleFailure(job, controller.signal.aborted ? (controller.signal.reason ?? err) : err);
    } finally {
      clearInterval(beat);
      this.active.delete(job.id);
    }
  }

  /** A hook may have written a checkpoint or preview after delete_finetune removed the files. */
  private async removeFilesOfDeleted(id: string): Promise<void> {
    try {
      if (await getTaskById(this.o.db, id)) return;
      await this.o.blobs.deletePrefix(finetunePrefix(id));
      await this.o.blobs.deletePrefix(taskPrefix(id));
    } catch {}
  }

  private async handleFailure(job: ClaimedJob, err: unknown): Promise<void> {
    if (err instanceof JobAbandoned) {
      this.o.log?.(`job ${job.id} stopped: ${err.message}`);
      if (this.stopping) await releaseJob(this.o.db, job.id, this.owner).catch(() => {});
      else await this.removeFilesOfDeleted(job.id);
      return;
    }
    const reason = err instanceof Error ? err.message : String(err);
    try {
      const permanent = isPermanent(err) || job.attempts >= job.max_attempts;
      if (!permanent) {
        this.o.log?.(`job ${job.id} failed (attempt ${job.attempts}/${job.max_attempts}), will retry: ${reason}`);
        await retryJobLater(this.o.db, job.id, this.owner, reason, this.o.retryBackoffMs * 2 ** (job.attempts - 1));
        return;
      }
      this.o.log?.(`job ${job.id} failed permanently: ${reason}`);
      await this.o.db.transaction(async (tx) => {
        await failJob(tx, job.id, this.owner, reason);
        if (await markTaskError(tx, job.id, reason)) await enqueueWebhook(tx, job.id);
      });
      this.o.onFinished?.();
    } catch (dbErr) {
      // The lease will expire and another attempt will follow; nothing is lost.
      this.o.log?.(`job ${job.id}: could not record failure: ${(dbErr as Error).message}`);
    }
  }
}
