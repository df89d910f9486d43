import { randomUUID } from 'node:crypto';
import type { Queryable } from '../storage/db.ts';

/**
 * Records "tell the client" in the same transaction that finishes the task, so a crash can
 * neither lose the notification nor send one for a result that was never committed.
 */
export async function enqueueWebhook(tx: Queryable, taskId: string): Promise<void> {
  await tx.query(
    `insert into webhook_deliveries (id, task_id, url, secret, state)
     select $2, id, webhook_url, webhook_secret, 'pending' from tasks where id = $1 and webhook_url is not null`,
    [taskId, randomUUID()],
  );
}
