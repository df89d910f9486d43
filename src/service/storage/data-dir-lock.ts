import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Embedded PGlite must never be opened by two processes at once (it would corrupt the database).
 * The lock is a listening Unix socket named after the data directory: the kernel holds it for the
 * owner and frees it the moment the owner dies (kill -9 included), so a dead owner never blocks a
 * restart and a reused pid cannot fake a live one. On Linux the socket lives in the abstract
 * namespace (no file at all); elsewhere it is a socket file whose staleness a connect attempt tells.
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  mkdirSync(dataDir, { recursive: true });
  const id = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 32);
  const address = process.platform === 'linux' ? `\0fluxtune-data-dir-${id}` : join(tmpdir(), `fluxtune-${id}.sock`);
  const server = net.createServer((socket) => socket.end(`${process.pid}\n`));
  try {
    await listen(server, address);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const owner = await ownerOf(address);
    if (owner === null && process.platform !== 'linux') {
      // A socket file left by a dead process: nobody accepts on it.
      rmSync(address, { force: true });
      await listen(server, address);
    } else {
      throw new Error(`${dataDir} is in use by another fluxtune process${owner ? ` (pid ${owner})` : ''}: stop it first, or share a Postgres via DATABASE_URL`);
    }
  }
  // The lock must not keep an otherwise finished process alive.
  server.unref();
  return () => {
    server.close();
  };
}

function listen(server: net.Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The owner's pid as it answers on the socket, or null when nobody is listening. */
function ownerOf(address: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    let text = '';
    // A live owner whose event loop is busy still owns the lock.
    socket.setTimeout(2000, () => {
      resolve('unknown');
      socket.destroy();
    });
    socket.on('data', (d) => {
      text += d.toString();
    });
    socket.on('end', () => resolve(text.trim() || 'unknown'));
    socket.on('error', () => resolve(null));
    socket.on('close', () => resolve(text.trim() || null));
  });
}
