// ONNX external data and the device choice. A model whose frozen weights exceed the threshold is
// written as model.onnx + weights.bin (protobuf stops at 2 GB) and loaded by path: its results
// equal the in-memory model's, its proto carries no weight bytes, and every tensor is found at its
// aligned offset in the file. FLUXTUNE_DEVICE is parsed strictly, and cuda asks ORT to refuse CPU fallback.

import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { configuredDevice, deviceSessionOptions } from '../../src/engine/device.ts';
import { Graph } from '../../src/engine/graph.ts';
import { emitModel } from '../../src/engine/onnx.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';

function model() {
  const g = new Graph();
  const x = g.input('x', [2, 8]);
  const w1 = g.input('w1', [8, 16]);
  const w2 = g.input('w2', [16, 4]);
  const rng = new Rng(7);
  const frozen = new Map([
    [w1, rng.fillNormal(new Float32Array(128))],
    [w2, rng.fillNormal(new Float32Array(64))],
  ]);
  return { outputs: { y: F.matmul(F.tanh(F.matmul(x, w1)), w2) }, frozen, x: rng.fillNormal(new Float32Array(16)) };
}

describe('ONNX external data', () => {
  it('a session over the threshold loads its weights from a file and computes the same', async () => {
    const m = model();
    const inMemory = await Session.create({ outputs: m.outputs, frozen: m.frozen, threads: 1 });
    const external = await Session.create({ outputs: m.outputs, frozen: m.frozen, threads: 1, externalDataOver: 0 });
    const a = (await inMemory.run({ x: m.x })).y as Float32Array;
    const b = (await external.run({ x: m.x })).y as Float32Array;
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.ok(external.modelBytes >= 192 * 4, 'modelBytes counts the external weights');
    await inMemory.release();
    await external.release();
  });

  it('the proto points at aligned offsets of weights.bin and holds no weight bytes', () => {
    const m = model();
    const dir = mkdtempSync(join(tmpdir(), 'ext-'));
    try {
      const fd = openSync(join(dir, 'weights.bin'), 'w');
      const emitted = emitModel({ outputs: m.outputs, frozen: m.frozen, externalData: { fd, location: 'weights.bin' } });
      closeSync(fd);
      const file = readFileSync(join(dir, 'weights.bin'));
      const proto = onnxProto.onnx.ModelProto.decode(emitted.bytes);
      const inits = proto.graph!.initializer!;
      assert.equal(inits.length, 2);
      for (const t of inits) {
        assert.equal(t.dataLocation, onnxProto.onnx.TensorProto.DataLocation.EXTERNAL);
        assert.equal(t.rawData?.length ?? 0, 0);
        const kv = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
        assert.equal(kv.location, 'weights.bin');
        const offset = Number(kv.offset);
        assert.equal(offset % 4096, 0);
        const data = [...m.frozen].find(([v]) => v.name === t.name)![1];
        assert.equal(Number(kv.length), data.byteLength);
        assert.deepEqual(new Float32Array(file.buffer.slice(file.byteOffset + offset, file.byteOffset + offset + data.byteLength)), data);
      }
      assert.equal(emitted.externalBytes, file.byteLength);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FLUXTUNE_DEVICE', () => {
  it('is cpu by default, cuda when asked, and an error otherwise', () => {
    assert.equal(configuredDevice({}), 'cpu');
    assert.equal(configuredDevice({ FLUXTUNE_DEVICE: 'CUDA' }), 'cuda');
    assert.throws(() => configuredDevice({ FLUXTUNE_DEVICE: 'tpu' }), /cpu or cuda, not 'tpu'/);
  });

  it('cuda disables ORT’s silent CPU fallback', () => {
    assert.deepEqual(deviceSessionOptions('cpu'), { executionProviders: ['cpu'] });
    const cuda = deviceSessionOptions('cuda', {});
    assert.deepEqual(cuda.executionProviders, [{ name: 'cuda', deviceId: 0 }]);
    assert.equal(cuda.extra?.session?.disable_cpu_ep_fallback, '1');
    // the explicit escape hatch: CPU as a second provider, no fallback ban
    assert.deepEqual(deviceSessionOptions('cuda', { FLUXTUNE_CUDA_CPU_FALLBACK: '1' }), { executionProviders: [{ name: 'cuda', deviceId: 0 }, 'cpu'] });
  });

  it('a cuda session without the CUDA build of onnxruntime-node fails instead of running on the CPU', async (t) => {
    const m = model();
    try {
      const s = await Session.create({ outputs: m.outputs, frozen: m.frozen, device: 'cuda' });
      await s.release();
      t.skip('this machine has the CUDA provider: nothing to refuse');
    } catch (err) {
      assert.match(
        (err as Error).message,
        /FLUXTUNE_DEVICE=cuda: ONNX Runtime could not run this graph on its CUDA provider .*onnxruntime-node-install=cuda12/,
      );
    }
  });
});
