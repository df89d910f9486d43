// Emits a graph as an ONNX ModelProto, using the maintained protobuf definitions of `onnx-proto`.
// Values fed at run time become graph inputs; constants and frozen weights become initializers,
// which lets ONNX Runtime constant-fold around them and prepack frozen matmul weights.

import { writeSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { ONNX_DTYPE, type TypedArray } from './dtype.ts';
import { type AttrValue, GraphError, nodesFor, type Value } from './graph.ts';

const { onnx } = onnxProto;

export const OPSET = 20;
/** ONNX Runtime's contrib ops (ops.ts registers the few we emit directly). */
const MS_DOMAIN = 'com.microsoft';
const IR_VERSION = 9;

/** Attributes whose ONNX type is float even when the JS number is integral. */
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'epsilon', 'value_float']);

export interface EmitOptions {
  /** Graph outputs by the name they get in the model. */
  outputs: Record<string, Value>;
  /** Inputs to bake in as initializers, with their data. */
  frozen?: ReadonlyMap<Value, TypedArray>;
  name?: string;
  /**
   * Write frozen weights to this open file instead of into the model (ONNX external data): a
   * protobuf message stops at 2 GB, a FLUX.1 transformer is 24 GB. `location` is the file's name
   * as the model refers to it, relative to the model file's folder.
   */
  externalData?: { fd: number; location: string };
}

export interface EmittedModel {
  bytes: Uint8Array;
  /** Inputs still fed at run time, in model order. */
  inputs: Value[];
  outputNames: string[];
  /** Bytes written to `externalData`'s file (0 without it). */
  externalBytes: number;
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (FLOAT_ATTRS.has(name) || !Number.isInteger(v)) return { name, type: T.FLOAT, f: v };
  return { name, type: T.INT, i: v };
}

function tensorProto(v: Value, data: TypedArray): onnxProto.onnx.ITensorProto {
  if (data.length !== v.size) throw new GraphError(`${v.name}: ${data.length} values for shape [${v.shape.join(',')}]`);
  const expected = ONNX_DTYPE[v.dtype];
  return {
    name: v.name,
    dims: [...v.shape],
    dataType: expected,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** Tensor data starts at multiples of this in the external file (ORT may map it). */
const EXTERNAL_ALIGN = 4096;

/** Appends the tensor's bytes to the external file and points the proto at them. */
function externalTensorProto(v: Value, data: TypedArray, ext: { fd: number; location: string; offset: number }): onnxProto.onnx.ITensorProto {
  const proto = tensorProto(v, data);
  const bytes = proto.rawData!;
  ext.offset = Math.ceil(ext.offset / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
  for (let done = 0; done < bytes.byteLength; ) done += writeSync(ext.fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30), ext.offset + done);
  const entry = { ...proto, rawData: undefined, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL };
  entry.externalData = [
    { key: 'location', value: ext.location },
    { key: 'offset', value: String(ext.offset) },
    { key: 'length', value: String(bytes.byteLength) },
  ];
  ext.offset += bytes.byteLength;
  return entry;
}

function valueInfo(name: string, v: Value): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

export function emitModel(opts: EmitOptions): EmittedModel {
  const outputNames = Object.keys(opts.outputs);
  const outputValues = Object.values(opts.outputs);
  if (!outputValues.length) throw new GraphError('a model needs at least one output');
  const graph = outputValues[0]!.graph;
  const frozen = opts.frozen ?? new Map();
  const nodes = nodesFor(outputValues);

  const leaves = new Map<number, Value>();
  const noteLeaf = (v: Value) => {
    if (v.kind !== 'node') leaves.set(v.id, v);
  };
  for (const n of nodes) n.inputs.forEach(noteLeaf);
  outputValues.forEach(noteLeaf);

  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const inputs: Value[] = [];
  const ext = opts.externalData ? { ...opts.externalData, offset: 0 } : undefined;
  for (const v of leaves.values()) {
    if (v.graph !== graph) throw new GraphError(`${v.name} belongs to another graph`);
    if (v.kind === 'constant') initializers.push(tensorProto(v, graph.constants.get(v)!));
    else if (frozen.has(v)) initializers.push(ext ? externalTensorProto(v, frozen.get(v)!, ext) : tensorProto(v, frozen.get(v)!));
    else inputs.push(v);
  }
  for (const v of frozen.keys()) {
    if (v.kind !== 'input') throw new GraphError(`only inputs can be frozen, not ${v.name}`);
  }

  const nodeProtos: onnxProto.onnx.INodeProto[] = nodes.map((n) => ({
    name: n.name,
    opType: n.op,
    domain: n.domain,
    input: n.inputs.map((v) => v.name),
    output: n.outputs.map((v) => v.name),
    attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
  }));
  // Outputs get the caller's names through Identity nodes, which ORT removes when it can.
  outputNames.forEach((name, i) => {
    nodeProtos.push({ name: `output_${name}`, opType: 'Identity', input: [outputValues[i]!.name], output: [name] });
  });

  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'fluxtune',
    opsetImport: [{ domain: '', version: OPSET }, ...(nodes.some((n) => n.domain === MS_DOMAIN) ? [{ domain: MS_DOMAIN, version: 1 }] : [])],
    graph: {
      name: opts.name ?? 'fluxtune',
      node: nodeProtos,
      initializer: initializers,
      input: inputs.map((v) => valueInfo(v.name, v)),
      output: outputNames.map((name, i) => valueInfo(name, outputValues[i]!)),
    },
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), inputs, outputNames, externalBytes: ext?.offset ?? 0 };
}
