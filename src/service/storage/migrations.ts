import type { Db } from './db.ts';

// Append-only: a released migration is never edited, only followed by a new one.
const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      create table api_keys (
        id uuid primary key,
        name text not null,
        key_hash text not null unique,
        prefix text not null,
        created_at timestamptz not null default now(),
        revoked_at timestamptz
      );

      create table settings (
        name text primary key,
        value text not null
      );

      -- Everything a client can poll with get_result: finetunes and generations alike.
      create table tasks (
        id uuid primary key,
        key_id uuid not null references api_keys(id),
        kind text not null check (kind in ('finetune', 'generate')),
        region text not null,
        status text not null,
        progress double precision,
        result jsonb,
        details jsonb,
        preview_blob text,
        input jsonb not null,
        webhook_url text,
        webhook_secret text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index tasks_by_key on tasks (key_id, kind, created_at desc);
      create index tasks_pending_by_key on tasks (key_id) where status = 'Pending';

      create table finetunes (
        id uuid primary key references tasks(id) on delete cascade,
        key_id uuid not null references api_keys(id),
        region text not null,
        finetune_comment text not null,
        trigger_word text not null,
        mode text not null,
        finetune_type text not null,
        lora_rank integer not null,
        iterations integer not null,
        learning_rate double precision not null,
        priority text not null,
        captioning boolean not null,
        image_count integer not null,
        dataset jsonb not null,
        captions jsonb,
        training_seconds double precision,
        lora_blob text,
        created_at timestamptz not null default now()
      );

      -- The durable work queue. A row is claimed with FOR UPDATE SKIP LOCKED and held by a lease
      -- that the worker renews; an expired lease means the worker died and the job is claimable again.
      create table jobs (
        id uuid primary key references tasks(id) on delete cascade,
        kind text not null,
        state text not null check (state in ('queued', 'running', 'done', 'failed')),
        attempts integer not null default 0,
        max_attempts integer not null,
        run_after timestamptz not null default now(),
        lease_owner text,
        lease_expires_at timestamptz,
        checkpoint_blob text,
        checkpoint_step integer,
        last_error text,
        created_at timestamptz not null default now()
      );
      create index jobs_claimable on jobs (state, run_after, created_at);

      create table webhook_deliveries (
        id uuid primary key,
        task_id uuid not null references tasks(id) on delete cascade,
        url text not null,
        secret text,
        state text not null check (state in ('pending', 'delivered', 'failed')),
        attempts integer not null default 0,
        next_attempt_at timestamptz not null default now(),
        last_error text,
        created_at timestamptz not null default now()
      );
      create index webhook_deliveries_due on webhook_deliveries (state, next_attempt_at);
    `,
  },
  {
    version: 2,
    // What the dashboard's training view draws (finetune_details.training): the loss of every step
    // as [step, loss, unix ms] and one preview per quarter of the run as {step, blob}.
    sql: `
      alter table finetunes add column loss_log jsonb not null default '[]'::jsonb;
      alter table finetunes add column previews jsonb not null default '[]'::jsonb;
    `,
  },
  {
    version: 3,
    // What a running task is doing (get_result's and finetune_details' phase): captioning, training,
    // extracting, saving for finetunes; sampling for generations. Null until a worker starts it.
    sql: `alter table tasks add column phase text;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export async function migrate(db: Db): Promise<void> {
  for (const m of MIGRATIONS) {
    await db.transaction(async (tx) => {
      // Several processes may start together on one Postgres: the advisory lock makes them take turns.
      // It is taken before `create table if not exists`, which is not safe against a concurrent create.
      await tx.query(`select pg_advisory_xact_lock(7412001)`);
      await tx.query(`create table if not exists schema_migrations (version integer primary key, applied_at timestamptz not null default now())`);
      const done = await tx.query(`select 1 from schema_migrations where version = $1`, [m.version]);
      if (done.rows.length > 0) return;
      await tx.exec(m.sql);
      await tx.query(`insert into schema_migrations (version) values ($1)`, [m.version]);
    });
  }
}
