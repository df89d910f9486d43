// Preloaded into the server that bench:api measures (node --import ./bench/loop-probe.mjs; plain JS, as
// worker threads inherit the flag but not tsx; it does nothing in them): what holds
// up the HTTP thread, seen from inside. Every 250 ms one line on stderr:
//   loop-probe {"t":…,"delayMax":ms,"delayP99":ms,"gc":[[kind,ms],…]}
// delay* from perf_hooks.monitorEventLoopDelay (how late a 1 ms timer fired); gc: every GC pause on
// this thread in the window (≥ 1 ms); pg: PGlite's synchronous statement runs on this thread (WASM
// Postgres: the time the event loop is held), count, total and longest; cpuMs / waitMs: this thread's
// time on a CPU, and runnable but waiting for one (Linux schedstat). Nothing else is changed.

import { readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

if (isMainThread) start();

function start() {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  /** @type {[string, number][]} */
  let gcs = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind ?? -1;
      gcs.push([KINDS[kind] ?? String(kind), Math.round(e.duration * 100) / 100]);
    }
  }).observe({ entryTypes: ['gc'] });

  let pg = { n: 0, totalMs: 0, maxMs: 0 };
  const proto = PGlite.prototype;
  const runSync = proto.execProtocolRawSync;
  proto.execProtocolRawSync = function (...args) {
    const t0 = performance.now();
    try {
      return runSync.apply(this, args);
    } finally {
      const ms = performance.now() - t0;
      pg.n++;
      pg.totalMs += ms;
      pg.maxMs = Math.max(pg.maxMs, ms);
    }
  };

  // Linux: this thread's time on a CPU and time runnable but waiting for one (ns), cumulative.
  const schedstat = () => {
    try {
      return readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    } catch {
      return [0, 0];
    }
  };
  let sched = schedstat();

  setInterval(() => {
    const now = schedstat();
    const line = {
      t: Math.round(performance.timeOrigin + performance.now()),
      delayMax: Math.round(delay.max / 1e4) / 100,
      delayP99: Math.round(delay.percentile(99) / 1e4) / 100,
      rssMb: Math.round(process.memoryUsage.rss() / 1e6),
      gc: gcs.filter(([, ms]) => ms >= 1),
      pg: { n: pg.n, totalMs: Math.round(pg.totalMs * 100) / 100, maxMs: Math.round(pg.maxMs * 100) / 100 },
      cpuMs: Math.round((now[0] - sched[0]) / 1e6),
      waitMs: Math.round((now[1] - sched[1]) / 1e6),
    };
    sched = now;
    delay.reset();
    gcs = [];
    pg = { n: 0, totalMs: 0, maxMs: 0 };
    process.stderr.write(`loop-probe ${JSON.stringify(line)}\n`);
  }, 250).unref();
}
