// TaskCache: get_result's cache in front of the database (PGlite runs each query on the HTTP thread).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Queryable } from '../../src/service/storage/db.ts';
import { TaskCache } from '../../src/service/tasks/task-cache.ts';
import type { TaskRow } from '../../src/service/tasks/task-store.ts';

const ID = '00000000-0000-4000-8000-000000000001';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A database of task rows that counts queries and answers after `delayMs`. */
function fakeDb(delayMs = 5) {
  const rows = new Map<string, TaskRow>();
  const db = {
    queries: 0,
    rows,
    async query<T>(_sql: string, params: unknown[] = []) {
      db.queries++;
      const [id, key, region] = params as string[];
      const snapshot = rows.get(id!);
      await sleep(delayMs);
      const row = snapshot && snapshot.key_id === key && snapshot.region === region ? { ...snapshot } : undefined;
      return { rows: (row ? [row] : []) as T[], rowCount: row ? 1 : 0 };
    },
    async exec() {},
  };
  return db satisfies Queryable;
}

const task = (progress: number): TaskRow =>
  ({ id: ID, key_id: 'k', region: 'us1', status: 'Pending', progress, kind: 'finetune', input: {} }) as unknown as TaskRow;

describe('TaskCache', () => {
  it('concurrent lookups of one id share one query', async () => {
    const db = fakeDb();
    db.rows.set(ID, task(0.1));
    const cache = new TaskCache(db, 1000);
    const found = await Promise.all(Array.from({ length: 50 }, () => cache.find(ID, 'k', 'us1')));
    assert.equal(db.queries, 1);
    assert.ok(found.every((r) => r?.progress === 0.1));
    // Another key or region never sees it, from the cache either.
    assert.equal(await cache.find(ID, 'other', 'us1'), null);
    assert.equal(await cache.find(ID, 'k', 'eu1'), null);
  });

  it('steady polling is answered from the cache, refreshed ahead in the background, never older than the TTL', async () => {
    const db = fakeDb(5);
    db.rows.set(ID, task(0.1));
    const ttl = 200;
    const cache = new TaskCache(db, ttl);
    const t0 = Date.now();
    await cache.find(ID, 'k', 'us1');
    let slowest = 0;
    let newest = 0.1;
    while (Date.now() - t0 < 1000) {
      // The task moves on in the database.
      db.rows.set(ID, task(Math.min(0.9, (Date.now() - t0) / 1000)));
      const asked = Date.now();
      const r = await cache.find(ID, 'k', 'us1');
      slowest = Math.max(slowest, Date.now() - asked);
      // What is served was in the database no more than ttl ago.
      assert.ok(r!.progress! >= (asked - t0 - ttl) / 1000 - 0.01, `progress ${r!.progress} at ${asked - t0} ms`);
      newest = Math.max(newest, r!.progress!);
      await sleep(2);
    }
    assert.ok(slowest < 5, `a poll waited ${slowest} ms for the database`);
    assert.ok(newest > 0.5, 'the row was refreshed');
    // About one query per TTL (refreshed near its end), not one per poll.
    assert.ok(db.queries <= 1 + Math.ceil(1000 / (ttl * 0.9)) + 1, `${db.queries} queries`);
  });

  it('a row evicted while its query runs is not cached from that query', async () => {
    const db = fakeDb(30);
    db.rows.set(ID, task(0.2));
    const cache = new TaskCache(db, 10_000);
    const inFlight = cache.find(ID, 'k', 'us1');
    await sleep(5);
    db.rows.delete(ID);
    cache.evict(ID);
    assert.equal((await inFlight)?.progress, 0.2);
    assert.equal(await cache.find(ID, 'k', 'us1'), null);
    assert.equal(db.queries, 2);
  });

  it('misses are not cached, and a TTL of 0 caches nothing', async () => {
    const db = fakeDb(1);
    const cache = new TaskCache(db, 1000);
    assert.equal(await cache.find(ID, 'k', 'us1'), null);
    db.rows.set(ID, task(0));
    assert.equal((await cache.find(ID, 'k', 'us1'))?.progress, 0);
    const uncached = new TaskCache(db, 0);
    await uncached.find(ID, 'k', 'us1');
    await uncached.find(ID, 'k', 'us1');
    assert.equal(db.queries, 4);
  });
});
