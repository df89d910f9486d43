import pg from 'pg';
import type { Db, Queryable, QueryResult } from './db.ts';

/** Shared Postgres for scale-out: several servers and `fluxtune worker` processes on one database. */
export async function openPostgresDb(connectionString: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // An idle connection that the server drops (restart, failover, idle timeout) is removed by the pool
  // and the next query opens a new one; unhandled, this 'error' event would crash the process. It is
  // still worth a line on stderr: repeated drops point at the database, not at fluxtune.
  pool.on('error', (err) => process.emitWarning(`idle connection dropped (${err.message}); the next query reconnects`, 'PostgresWarning'));
  // Fail at start, not at the first request, when the URL is wrong.
  const probe = await pool.connect();
  probe.release();
  const wrap = (c: { query: pg.Pool['query'] }): Queryable => ({
    async exec(sql: string) {
      await c.query(sql);
    },
    async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
      const r = await c.query(sql, params);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
  });
  return {
    kind: 'postgres',
    query: wrap(pool).query,
    exec: wrap(pool).exec,
    async transaction(fn) {
      const client = await pool.connect();
      // A checked-out client has no pool listener: a dropped connection would be an unhandled 'error'.
      // The pending query rejects anyway; the broken client is then destroyed rather than pooled.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
