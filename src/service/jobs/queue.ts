import type { Db, Queryable } from '../storage/db.ts';

export interface ClaimedJob {
  id: string;
  kind: 'finetune' | 'generate';
  attempts: number;
  max_attempts: number;
  checkpoint_blob: string | null;
  checkpoint_step: number | null;
}

/**
 * Takes the oldest runnable job: queued and due, or running under a lease that has expired (its
 * worker died). SKIP LOCKED lets many workers poll one table without blocking on each other.
 */
export async function claimJob(db: Db, owner: string, leaseMs: number, kinds: readonly string[]): Promise<ClaimedJob | null> {
  return db.transaction(async (tx) => {
    const r = await tx.query<ClaimedJob>(
      `with next as (
         select id from jobs
         where kind = any(string_to_array($3, ','))
           and ((state = 'queued' and run_after <= now()) or (state = 'running' and lease_expires_at < now()))
         order by created_at, id
         limit 1
         for update skip locked
       )
       update jobs j
          set state = 'running', lease_owner = $1, lease_expires_at = now() + ($2::int * interval '1 millisecond'), attempts = j.attempts + 1
         from next where j.id = next.id
       returning j.id, j.kind, j.attempts, j.max_attempts, j.checkpoint_blob, j.checkpoint_step`,
      [owner, Math.round(leaseMs), kinds.join(',')],
    );
    return r.rows[0] ?? null;
  });
}

/** Renews the lease. false = the job is gone (deleted) or another worker took it over: stop working on it. */
export async function heartbeat(db: Queryable, id: string, owner: string, leaseMs: number): Promise<boolean> {
  const r = await db.query(
    `update jobs set lease_expires_at = now() + ($3::int * interval '1 millisecond')
     where id = $1 and lease_owner = $2 and state = 'running' returning id`,
    [id, owner, Math.round(leaseMs)],
  );
  return r.rows.length > 0;
}

export async function recordCheckpoint(db: Queryable, id: string, owner: string, blob: string, step: number): Promise<void> {
  await db.query(`update jobs set checkpoint_blob = $3, checkpoint_step = $4 where id = $1 and lease_owner = $2`, [id, owner, blob, step]);
}

export async function completeJob(tx: Queryable, id: string, owner: string): Promise<void> {
  await tx.query(`update jobs set state = 'done', lease_owner = null, lease_expires_at = null where id = $1 and lease_owner = $2`, [id, owner]);
}

/** Puts the job back with a delay; returns false when the job is gone. */
export async function retryJobLater(db: Queryable, id: string, owner: string, error: string, delayMs: number): Promise<boolean> {
  const r = await db.query(
    `update jobs set state = 'queued', lease_owner = null, lease_expires_at = null, last_error = $3,
            run_after = now() + ($4::int * interval '1 millisecond')
     where id = $1 and lease_owner = $2 returning id`,
    [id, owner, error, Math.round(delayMs)],
  );
  return r.rows.length > 0;
}

export async function failJob(tx: Queryable, id: string, owner: string, error: string): Promise<void> {
  await tx.query(`update jobs set state = 'failed', lease_owner = null, lease_expires_at = null, last_error = $3 where id = $1 and lease_owner = $2`, [
    id,
    owner,
    error,
  ]);
}

/**
 * Embedded mode has exactly one process per data directory, so at start every "running" job
 * belonged to a process that is gone (kill -9, power loss): make them claimable now rather than
 * after the lease runs out, and do not count the crash against the job's attempts.
 */
export async function releaseOrphanedLeases(db: Queryable): Promise<number> {
  const r = await db.query(
    `update jobs set lease_expires_at = now() - interval '1 second', attempts = greatest(attempts - 1, 0)
     where state = 'running' returning id`,
  );
  return r.rows.length;
}

/** Graceful shutdown: hand the job back at once (checkpoint kept), without counting an attempt. */
export async function releaseJob(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query(
    `update jobs set state = 'queued', lease_owner = null, lease_expires_at = null, attempts = greatest(attempts - 1, 0)
     where id = $1 and lease_owner = $2 and state = 'running'`,
    [id, owner],
  );
}
