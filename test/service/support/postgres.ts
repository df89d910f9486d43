// A throwaway PostgreSQL server for tests of the DATABASE_URL path: initdb into a temp dir, start it on a
// free loopback port with trust auth, hand out databases, stop it and delete the dir. Uses the binaries
// on PATH or under /usr/lib/postgresql/<version>/bin; findPostgresBin() returns null (the caller skips)
// where there are none. Postgres refuses to run as root, so as root it runs as the `postgres` OS user.

import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

const NEEDED = ['initdb', 'pg_ctl', 'postgres'];

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory holding initdb, pg_ctl and postgres (FLUXTUNE_TEST_PG_BIN, PATH, newest /usr/lib/postgresql/N/bin), or null. */
export function findPostgresBin(): string | null {
  const candidates: string[] = [];
  if (process.env.FLUXTUNE_TEST_PG_BIN) candidates.push(process.env.FLUXTUNE_TEST_PG_BIN);
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {}
  for (const dir of candidates) if (NEEDED.every((b) => isExecutable(join(dir, b)))) return dir;
  return null;
}

/** The OS user the server runs as: ourselves, or `postgres` when we are root. */
function serverUser(): { name: string; uid: number; gid: number } | null {
  const me = userInfo();
  if (me.uid !== 0) return { name: me.username, uid: me.uid, gid: me.gid };
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { name: 'postgres', uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Why a Postgres test cannot run here (a skip message), or null when it can. */
export function postgresUnavailable(): string | null {
  if (!findPostgresBin()) {
    return 'no PostgreSQL binaries (initdb, pg_ctl, postgres) on PATH or under /usr/lib/postgresql/*/bin: apt-get install postgresql';
  }
  if (!serverUser()) return 'running as root and there is no `postgres` OS user to run the server as (postgres refuses root)';
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  /** URL of the `postgres` maintenance database (superuser). */
  adminUrl: string;
  port: number;
  /** Creates an empty database and returns its DATABASE_URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (immediate shutdown) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

let dbCounter = 0;

/** Starts a fresh cluster. Throws when it cannot (call postgresUnavailable() first to skip instead). */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const user = serverUser();
  if (!bin || !user) throw new Error(postgresUnavailable() ?? 'postgres unavailable');
  const root = mkdtempSync(join(tmpdir(), 'fluxtune-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) chownSync(root, user.uid, user.gid);
  const data = join(root, 'data');
  const logFile = join(root, 'server.log');

  const run = (exe: string, args: string[]): SpawnSyncReturns<string> => {
    const argv = asRoot ? (['runuser', ['-u', user.name, '--', join(bin, exe), ...args]] as const) : ([join(bin, exe), args] as const);
    // cwd: a directory the server user can read (it may not be able to read the caller's).
    return spawnSync(argv[0], [...argv[1]], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
  };
  const check = (what: string, r: SpawnSyncReturns<string>) => {
    if (r.status !== 0) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
      throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}\n${log}`);
    }
  };
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '20']);
    rmSync(root, { recursive: true, force: true });
  };
  // A test process that dies without calling stop() must not leave a postmaster behind.
  process.once('exit', stopSync);

  try {
    check('initdb', run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync']));
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      const opts = [
        `-p ${port}`,
        `-k ${root}`, // unix socket next to the data, not in /var/run/postgresql
        "-c listen_addresses='127.0.0.1'",
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=100',
      ].join(' ');
      const r = run('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '30', '-o', opts]);
      if (r.status === 0) break;
      // Another process may have taken the port between freePort() and the bind: try another.
      if (attempt >= 2) check('pg_ctl start', r);
    }
    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return {
      adminUrl,
      port,
      async createDatabase(name = `fluxtune_test_${process.pid}_${++dbCounter}`) {
        const c = new pg.Client({ connectionString: adminUrl });
        await c.connect();
        try {
          await c.query(`create database "${name}"`);
        } finally {
          await c.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        process.removeListener('exit', stopSync);
        stopSync();
      },
    };
  } catch (err) {
    process.removeListener('exit', stopSync);
    stopSync();
    throw err;
  }
}
