// Worker threads do not inherit `--import tsx`; register the TypeScript loader, then load the real entry.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
