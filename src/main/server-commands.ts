// `fluxtune serve`, `fluxtune worker` and `fluxtune keys …`: the commands that run the service itself.
// Loaded lazily by src/main/cli.ts, so client commands never pull in the server or the model.

import { flagNumber, flagString, type ParsedArgs } from '../client/cli-args.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../service/auth/api-keys.ts';
import { configFromEnv, type ServiceConfig } from '../service/config.ts';
import { createServer } from '../service/create-server.ts';
import { ThreadedBackend } from '../service/jobs/threaded-backend.ts';
import { openStores } from '../service/service-stores.ts';
import { startWorker } from '../service/start-worker.ts';

function configFrom(args: ParsedArgs): ServiceConfig {
  const overrides: Partial<ServiceConfig> = {};
  const port = flagNumber(args, 'port');
  if (port !== undefined) overrides.port = port;
  const host = flagString(args, 'host');
  if (host) overrides.host = host;
  const region = flagString(args, 'region');
  if (region) overrides.region = region;
  const env = { ...process.env };
  const dataDir = flagString(args, 'data-dir');
  if (dataDir) env.FLUXTUNE_DATA_DIR = dataDir;
  return configFromEnv(env, overrides);
}

/**
 * The model loads in a worker thread from a module + export name. Default: the shipped flux-mini via
 * loadDefaultBackend() in src/model/index.ts. FLUXTUNE_BACKEND_MODULE=<path or URL>#<export> plugs in another
 * (e.g. a remote GPU client).
 */
async function startBackend(args: ParsedArgs, config: ServiceConfig): Promise<ThreadedBackend> {
  const spec = flagString(args, 'backend') ?? process.env.FLUXTUNE_BACKEND_MODULE;
  const [module, exportName] = spec ? (spec.split('#') as [string, string?]) : [new URL('../model/index.ts', import.meta.url).href, 'loadDefaultBackend'];
  try {
    // FLUXTUNE_BACKEND_ARG: JSON handed to the loader (e.g. a remote worker's address).
    const loaderArg = process.env.FLUXTUNE_BACKEND_ARG ? JSON.parse(process.env.FLUXTUNE_BACKEND_ARG) : undefined;
    return await ThreadedBackend.start({ module, exportName: exportName ?? 'loadDefaultBackend', loaderArg, nice: config.modelNice });
  } catch (err) {
    throw new Error(`the model backend failed to load (${module}#${exportName}): ${(err as Error).message}`);
  }
}

function log(msg: string): void {
  process.stderr.write(`[fluxtune] ${msg}\n`);
}

export async function serve(args: ParsedArgs): Promise<void> {
  const config = configFrom(args);
  const backend = args.flags.get('worker') === false ? undefined : await startBackend(args, config);
  const server = await createServer({ config, backend, log }).catch(async (err: unknown) => {
    await backend?.close();
    throw err;
  });
  log(
    `listening on ${server.url} (region ${config.region}, data ${config.databaseUrl ? 'Postgres' : config.dataDir}, model ${backend?.name ?? 'none: --no-worker'})`,
  );
  log(`API docs: ${server.url}/docs`);
  if (server.createdKey) {
    process.stdout.write(
      `\nCreated an API key for this fresh data directory. It is shown only once:\n\n  ${server.createdKey}\n\n` +
        `export BFL_API_KEY=${server.createdKey}\n\n`,
    );
  }
  await untilSignal(async () => {
    await server.close();
    await backend?.close();
  });
}

export async function worker(args: ParsedArgs): Promise<void> {
  const config = configFrom(args);
  const backend = await startBackend(args, config);
  const w = await startWorker({ config, backend, log }).catch(async (err: unknown) => {
    await backend.close();
    throw err;
  });
  log(`worker ${w.runner.owner} claiming jobs (model ${backend.name})`);
  await untilSignal(async () => {
    await w.close();
    await backend.close();
  });
}

export async function keys(args: ParsedArgs, json: boolean): Promise<void> {
  const [, sub, target] = args.positionals;
  const { db } = await openStores(configFrom(args));
  try {
    switch (sub) {
      case 'create': {
        const created = await createApiKey(db, flagString(args, 'name') ?? 'cli');
        if (json) console.log(JSON.stringify(created));
        else console.log(`Created key ${created.id}. It is shown only once:\n\n  ${created.key}\n`);
        return;
      }
      case 'list': {
        const all = await listApiKeys(db);
        if (json) console.log(JSON.stringify(all));
        else
          for (const k of all)
            console.log(
              `${k.id}  ${k.prefix}…  ${k.name.padEnd(16)}  created ${k.createdAt.toISOString()}${k.revokedAt ? `  REVOKED ${k.revokedAt.toISOString()}` : ''}`,
            );
        return;
      }
      case 'revoke': {
        if (!target) throw new Error('usage: fluxtune keys revoke <key id or prefix>');
        const n = await revokeApiKey(db, target);
        if (json) console.log(JSON.stringify({ revoked: n }));
        else console.log(n > 0 ? `Revoked ${n} key(s).` : `No active key matches ${target}.`);
        if (n === 0) process.exitCode = 1;
        return;
      }
      default:
        throw new Error('usage: fluxtune keys create [--name N] | list | revoke <id|prefix>');
    }
  } finally {
    await db.close();
  }
}

function untilSignal(shutdown: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      log('shutting down');
      shutdown().then(resolve, (err) => {
        log(`shutdown error: ${(err as Error).message}`);
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
