// Where ONNX Runtime sessions run: FLUXTUNE_DEVICE=cpu (default) or cuda. The CUDA provider ships
// only in onnxruntime-node's CUDA build (`npm install onnxruntime-node --onnxruntime-node-install=cuda12`
// on a machine with internet); without it, or without a GPU, session creation fails with ORT's
// reason. On cuda, `session.disable_cpu_ep_fallback` is set: a node the CUDA provider cannot run
// fails the session instead of running silently, and slowly, on the CPU (ORT refuses a session
// with any node assigned to its CPU provider: inference_session.cc, kOrtSessionOptionsDisableCPUEPFallback).
// FLUXTUNE_CUDA_CPU_FALLBACK=1 lets such nodes run on the CPU, for graphs where that is known and accepted.

export type Device = 'cpu' | 'cuda';

export interface DeviceSessionOptions {
  executionProviders: (string | { name: string; deviceId?: number })[];
  extra?: Record<string, Record<string, string>>;
}

/** FLUXTUNE_DEVICE, checked; an unknown value is a start-up error, not a silent CPU run. */
export function configuredDevice(env: NodeJS.ProcessEnv = process.env): Device {
  const v = (env.FLUXTUNE_DEVICE ?? 'cpu').trim().toLowerCase();
  if (v === '' || v === 'cpu') return 'cpu';
  if (v === 'cuda' || v === 'gpu') return 'cuda';
  throw new Error(`FLUXTUNE_DEVICE must be cpu or cuda, not '${env.FLUXTUNE_DEVICE}'`);
}

/** The ORT session options that put a session on `device` (CUDA_VISIBLE_DEVICES picks the GPU). */
export function deviceSessionOptions(device: Device, env: NodeJS.ProcessEnv = process.env): DeviceSessionOptions {
  if (device === 'cpu') return { executionProviders: ['cpu'] };
  if (env.FLUXTUNE_CUDA_CPU_FALLBACK === '1') return { executionProviders: [{ name: 'cuda', deviceId: 0 }, 'cpu'] };
  return { executionProviders: [{ name: 'cuda', deviceId: 0 }], extra: { session: { disable_cpu_ep_fallback: '1' } } };
}
