// TaskCache: get_result's cache in front of the database (PGlite runs each query on the HTTP thread).
// Deterministic: the cache reads a clock the test moves, and each query waits until the test answers
// it, so "served from the cache without waiting for the database" is checked as exactly that (the
// lookup settles while its query is still unanswered), not as a wall-clock time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Queryable } from '../../src/service/storage/db.ts';
import { TaskCache } from '../../src/service/tasks/task-cache.ts';
import type { TaskRow } from '../../src/service/tasks/task-store.ts';

const ID = '00000000-0000-4000-8000-000000000001';

/** A clock the test moves by hand. */
function fakeClock() {
  const clock = { t: 0, now: () => clock.t };
  return clock;
}

/**
 * A database of task rows that counts queries and answers each only when the test says so. A query
 * reads the row as it is when the query starts (the stalest a real one could read).
 */
function fakeDb(clock = fakeClock()) {
  const rows = new Map<string, TaskRow>();
  const waiting: { startedAt: number; answer: () => void }[] = [];
  const db = {
    queries: 0,
    rows,
    /** Queries asked and not answered yet. */
    get unanswered() {
      return waiting.length;
    },
    query<T>(_sql: string, params: unknown[] = []) {
      db.queries++;
      const [id, key, region] = params as string[];
      const snapshot = rows.get(id!);
      const row = snapshot && snapshot.key_id === key && snapshot.region === region ? { ...snapshot } : undefined;
      return new Promise<{ rows: T[]; rowCount: number }>((resolve) => {
        waiting.push({ startedAt: clock.t, answer: () => resolve({ rows: (row ? [row] : []) as T[], rowCount: row ? 1 : 0 }) });
      });
    },
    async exec() {},
    /** Answers the queries started at or before `startedBy` (all by default), oldest first, and lets their callers run. */
    async answer(startedBy = Number.POSITIVE_INFINITY) {
      while (waiting.length && waiting[0]!.startedAt <= startedBy) waiting.shift()!.answer();
      await settle();
    },
  };
  return db satisfies Queryable;
}

/** Lets every promise that can settle without the database settle (microtasks, then one macrotask turn). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** The lookup's outcome if it settles without the database answering anything, else 'waiting'. */
async function withoutDb<T>(p: Promise<T>): Promise<T | 'waiting'> {
  let out: { v: T } | undefined;
  p.then((v) => {
    out = { v };
  });
  await settle();
  return out ? out.v : 'waiting';
}

const task = (progress: number): TaskRow =>
  ({ id: ID, key_id: 'k', region: 'us1', status: 'Pending', progress, kind: 'finetune', input: {} }) as unknown as TaskRow;

describe('TaskCache', () => {
  it('concurrent lookups of one id share one query', async () => {
    const clock = fakeClock();
    const db = fakeDb(clock);
    db.rows.set(ID, task(0.1));
    const cache = new TaskCache(db, 1000, clock.now);
    const lookups = Array.from({ length: 50 }, () => cache.find(ID, 'k', 'us1'));
    await settle();
    assert.equal(db.queries, 1);
    await db.answer();
    const found = await Promise.all(lookups);
    assert.ok(found.every((r) => r?.progress === 0.1));
    // Another key or region never sees it, from the cache either (and asks nothing).
    assert.equal(await withoutDb(cache.find(ID, 'other', 'us1')), null);
    assert.equal(await withoutDb(cache.find(ID, 'k', 'eu1')), null);
    assert.equal(db.queries, 1);
  });

  it('a polled row is served from the cache while it is refreshed in the background, and never older than the TTL', async () => {
    const clock = fakeClock();
    const db = fakeDb(clock);
    const ttl = 200; // refreshed once it has lived 90% of it: 180
    const cache = new TaskCache(db, ttl, clock.now);
    const poll = () => withoutDb(cache.find(ID, 'k', 'us1').then((r) => r?.progress));

    db.rows.set(ID, task(0.1));
    const first = cache.find(ID, 'k', 'us1');
    assert.equal(await withoutDb(first), 'waiting', 'nothing cached yet: the first lookup asks the database');
    await db.answer();
    assert.equal((await first)?.progress, 0.1);

    // The task moves on in the database; polls inside the TTL are answered from the cache, asking nothing.
    db.rows.set(ID, task(0.3));
    for (const t of [1, 100, 179]) {
      clock.t = t;
      assert.equal(await poll(), 0.1, `at ${t} ms`);
    }
    assert.equal(db.queries, 1);

    // At 90% of its TTL a poll starts a refresh but does not wait for it: it is served the row it has.
    clock.t = 180;
    db.rows.set(ID, task(0.4));
    assert.equal(await poll(), 0.1, 'a poll waited for the database');
    assert.equal(db.queries, 2, 'the refresh was not started');
    assert.equal(db.unanswered, 1);
    // Polls while the refresh runs share it (no second query) and are not held up by it either.
    clock.t = 190;
    assert.equal(await poll(), 0.1);
    assert.equal(db.queries, 2);
    await db.answer();

    // The old row would have expired at 200; the refreshed one (read at 180) serves on.
    clock.t = 200;
    assert.equal(await poll(), 0.4);
    clock.t = 359;
    assert.equal(await poll(), 0.4);
    assert.equal(db.queries, 2);

    // Not polled in its refresh window, it expires at its TTL: the next poll waits for the database.
    clock.t = 380;
    db.rows.set(ID, task(0.6));
    const late = cache.find(ID, 'k', 'us1');
    assert.equal(await withoutDb(late), 'waiting', 'a row older than the TTL was served');
    assert.equal(db.queries, 3);
    await db.answer();
    assert.equal((await late)?.progress, 0.6);
  });

  it('steady polling (every 2 ms, 5 ms queries) never waits for the database and costs about one query per TTL', async () => {
    const clock = fakeClock();
    const db = fakeDb(clock);
    const ttl = 200;
    const queryMs = 5;
    const cache = new TaskCache(db, ttl, clock.now);
    db.rows.set(ID, task(0));
    const first = cache.find(ID, 'k', 'us1');
    await db.answer();
    await first;
    let newest = 0;
    for (clock.t = 2; clock.t <= 1000; clock.t += 2) {
      await db.answer(clock.t - queryMs);
      db.rows.set(ID, task(clock.t / 1000));
      const served = await withoutDb(cache.find(ID, 'k', 'us1'));
      if (served === 'waiting') assert.fail(`the poll at ${clock.t} ms waited for the database`);
      const progress = served!.progress!;
      // What is served was in the database no more than ttl ago.
      assert.ok(progress >= (clock.t - ttl) / 1000, `progress ${progress} at ${clock.t} ms`);
      newest = Math.max(newest, progress);
    }
    assert.ok(newest > 0.5, 'the row was refreshed');
    // About one query per TTL (refreshed near its end), not one per poll.
    assert.ok(db.queries <= 1 + Math.ceil(1000 / (ttl * 0.9)), `${db.queries} queries`);
  });

  it('a row evicted while its query runs is not cached from that query', async () => {
    const clock = fakeClock();
    const db = fakeDb(clock);
    db.rows.set(ID, task(0.2));
    const cache = new TaskCache(db, 10_000, clock.now);
    const inFlight = cache.find(ID, 'k', 'us1');
    await settle();
    db.rows.delete(ID);
    cache.evict(ID);
    await db.answer();
    assert.equal((await inFlight)?.progress, 0.2);
    const after = cache.find(ID, 'k', 'us1');
    assert.equal(await withoutDb(after), 'waiting', 'the evicted lookup was cached');
    await db.answer();
    assert.equal(await after, null);
    assert.equal(db.queries, 2);
  });

  it('misses are not cached, and a TTL of 0 caches nothing', async () => {
    const clock = fakeClock();
    const db = fakeDb(clock);
    const answered = async <T>(p: Promise<T>) => {
      await db.answer();
      return p;
    };
    const cache = new TaskCache(db, 1000, clock.now);
    assert.equal(await answered(cache.find(ID, 'k', 'us1')), null);
    db.rows.set(ID, task(0));
    assert.equal((await answered(cache.find(ID, 'k', 'us1')))?.progress, 0);
    const uncached = new TaskCache(db, 0, clock.now);
    await answered(uncached.find(ID, 'k', 'us1'));
    await answered(uncached.find(ID, 'k', 'us1'));
    assert.equal(db.queries, 4);
  });
});
