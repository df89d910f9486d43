import type { BlobStore } from './blob-store.ts';
import type { Db } from './db.ts';

/** Where blobs are grouped by the task they belong to (src/service/blob-keys.ts). */
const TASK_PREFIXES = ['finetunes', 'tasks'] as const;

/**
 * A submit writes its blobs before the transaction that commits its task, and put() writes a temp
 * file before renaming it: a crash (kill -9) in between leaves blobs no task references, for ever.
 * At start-up they go. `graceMs` protects writes still in flight in other processes sharing the
 * blob store (a shared Postgres); with the embedded database this process is the only writer.
 */
export async function sweepOrphanedBlobs(db: Db, blobs: BlobStore, o: { graceMs: number }): Promise<{ prefixes: string[]; tempFiles: number }> {
  const removed: string[] = [];
  const cutoff = Date.now() - o.graceMs;
  for (const top of TASK_PREFIXES) {
    const children = (await blobs.listChildren(top)).filter((c) => c.modifiedMs <= cutoff);
    if (children.length === 0) continue;
    const r = await db.query<{ id: string }>(`select id::text as id from tasks where id::text = any($1::text[])`, [children.map((c) => c.name)]);
    const known = new Set(r.rows.map((row) => row.id));
    for (const { name } of children) {
      if (known.has(name)) continue;
      await blobs.deletePrefix(`${top}/${name}`);
      removed.push(`${top}/${name}`);
    }
  }
  const tempFiles = await blobs.removeIncompleteWrites(o.graceMs);
  return { prefixes: removed, tempFiles };
}
