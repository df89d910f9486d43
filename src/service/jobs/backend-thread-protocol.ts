// Messages between ThreadedBackend (main thread) and backend-thread.ts (the model's thread).

import type { TrainProgress } from '../../model/backend.ts';
export type ToThread =
  | { type: 'call'; id: number; method: 'train' | 'generate' | 'caption'; args: unknown[] }
  | { type: 'abort'; id: number }
  | { type: 'ack'; id: number; ack: number; error?: string };

export type FromThread =
  | { type: 'ready'; name: string }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string; name: string }
  | { type: 'progress'; id: number; progress: number; info?: TrainProgress }
  | { type: 'preview'; id: number; ack: number; png: Uint8Array; step: number }
  | { type: 'checkpoint'; id: number; ack: number; bytes: Uint8Array; step: number };
