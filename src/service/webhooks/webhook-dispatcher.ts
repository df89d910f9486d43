import type { Db } from '../storage/db.ts';
import { getTaskById, type TaskRow } from '../tasks/task-store.ts';
import { postJson } from './post-json.ts';
import { resolvePublicAddress } from './ssrf-guard.ts';
import { webhookHeaders } from './webhook-signature.ts';

export interface WebhookDispatcherOptions {
  db: Db;
  /** The get_result view of a task, with fresh signed URLs. */
  renderTask(task: TaskRow): Record<string, unknown>;
  allowPrivate: boolean;
  backoffMs: number;
  maxAttempts: number;
  pollMs?: number;
  timeoutMs?: number;
  log?: (msg: string) => void;
}

/** How long a delivery waits after its `attempts`-th failed attempt: backoffMs, doubling each time, at most an hour. */
export function retryDelayMs(backoffMs: number, attempts: number): number {
  return Math.min(backoffMs * 2 ** (attempts - 1), 3_600_000);
}

interface Delivery {
  id: string;
  task_id: string;
  url: string;
  secret: string | null;
  attempts: number;
}

/** Delivers the webhook outbox: at least once, retried with exponential back-off, any number of servers sharing the table. */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: WebhookDispatcherOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Wakes the dispatcher now (a task just finished in this process). */
  notify(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.drain()
        .catch((err) => this.o.log?.(`webhook dispatcher: ${(err as Error).message}`))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.o.pollMs ?? 1000);
        });
    }, ms);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const batch = await this.claimDue();
      if (batch.length === 0) return;
      await Promise.all(batch.map((d) => this.deliver(d)));
    }
  }

  private async claimDue(): Promise<Delivery[]> {
    // Pushing next_attempt_at forward acts as a lease: another dispatcher skips these while we send.
    return this.o.db.transaction(async (tx) => {
      const r = await tx.query<Delivery>(
        `with due as (
           select id from webhook_deliveries where state = 'pending' and next_attempt_at <= now()
           order by next_attempt_at limit 8 for update skip locked
         )
         update webhook_deliveries w set next_attempt_at = now() + interval '60 seconds'
         from due where w.id = due.id
         returning w.id, w.task_id, w.url, w.secret, w.attempts`,
      );
      return r.rows;
    });
  }

  private async deliver(d: Delivery): Promise<void> {
    const task = await getTaskById(this.o.db, d.task_id);
    if (!task) return; // the task was deleted; its deliveries went with it
    const view = this.o.renderTask(task);
    const body = JSON.stringify({ id: task.id, task_id: task.id, status: view.status, result: view.result ?? null, details: view.details ?? null });
    let error: string | null = null;
    try {
      // The same address policy as at submit, now on what the name resolves to; postJson connects to
      // that address only and follows no redirect, so nothing else is ever contacted.
      const target = await resolvePublicAddress(d.url, this.o.allowPrivate);
      const res = await postJson(d.url, body, webhookHeaders(d.secret, body), target, this.o.timeoutMs ?? 10_000);
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    const attempts = d.attempts + 1;
    if (error === null) {
      await this.o.db.query(`update webhook_deliveries set state = 'delivered', attempts = $2, last_error = null where id = $1`, [d.id, attempts]);
      return;
    }
    const giveUp = attempts >= this.o.maxAttempts;
    const delay = retryDelayMs(this.o.backoffMs, attempts);
    this.o.log?.(`webhook ${d.url} for ${d.task_id} failed (attempt ${attempts}): ${error}${giveUp ? '; giving up' : ''}`);
    await this.o.db.query(
      `update webhook_deliveries set attempts = $2, last_error = $3, state = $4, next_attempt_at = now() + ($5::int * interval '1 millisecond') where id = $1`,
      [d.id, attempts, error, giveUp ? 'failed' : 'pending', delay],
    );
  }
}
