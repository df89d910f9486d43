// The graph IR: values produced by ONNX-op nodes. Building a model means calling op builders
// (ops.ts) that append nodes; shapes are static and inferred at build time, so a shape error
// is reported at the line that built the node, with the node's name.

import { type DType, numel, type TypedArray } from './dtype.ts';

export type AttrValue = number | number[] | string;

export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphError';
  }
}

export type ValueKind = 'input' | 'constant' | 'node';

export class Value {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly kind: ValueKind,
    /** Unique within the graph; inputs keep the name they were declared with. */
    readonly name: string,
    readonly producer: Node | null = null,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return numel(this.shape);
  }

  toString(): string {
    return `${this.name}[${this.shape.join(',')}]:${this.dtype}`;
  }
}

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly Value[];
  outputs: Value[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
  readonly domain: string;
}

export interface OutputSpec {
  shape: readonly number[];
  dtype: DType;
}

/** Shape/type inference of one op; throws a plain Error that the graph wraps with the node name. */
export type InferFn = (inputs: readonly Value[], attrs: Readonly<Record<string, AttrValue>>) => OutputSpec[];

const registry = new Map<string, { infer: InferFn; domain: string }>();

export function registerOp(op: string, infer: InferFn, domain = ''): void {
  registry.set(op, { infer, domain });
}

/** Every op a graph can hold (those ops.ts has registered once it is loaded). */
export function registeredOps(): string[] {
  return [...registry.keys()];
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly values: Value[] = [];
  readonly inputs = new Map<string, Value>();
  readonly constants = new Map<Value, TypedArray>();
  private scopes: string[] = [];
  private nextId = 0;

  /** A tensor fed at run time: data, or trainable weights (frozen ones become initializers at compile time). */
  input(name: string, shape: readonly number[], dtype: DType = 'float32'): Value {
    if (this.inputs.has(name)) throw new GraphError(`input '${name}' declared twice`);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new GraphError(`input '${name}': bad shape [${shape.join(',')}]`);
    }
    const v = this.newValue(shape, dtype, 'input', name, null);
    this.inputs.set(name, v);
    return v;
  }

  constant(data: TypedArray, shape: readonly number[], dtype: DType): Value {
    if (numel(shape) !== data.length) {
      throw new GraphError(`constant: ${data.length} elements do not fill shape [${shape.join(',')}]`);
    }
    const v = this.newValue(shape, dtype, 'constant', `const_${this.nextId}`, null);
    this.constants.set(v, data);
    return v;
  }

  /** Runs `fn` with a name prefix on every node it creates, so errors and profiles read like module paths. */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** Appends a node; infers its outputs or throws a GraphError that names the node. */
  apply(op: string, inputs: readonly Value[], attrs: Record<string, AttrValue> = {}): Value[] {
    const id = this.nextId++;
    const prefix = this.scopes.length ? `${this.scopes.join('/')}/` : '';
    const name = `${prefix}${op}_${id}`;
    const def = registry.get(op);
    if (!def) throw new GraphError(`node '${name}': unknown op '${op}'`);
    for (const v of inputs) {
      if (v.graph !== this) throw new GraphError(`node '${name}' (${op}): input ${v.name} belongs to another graph`);
    }
    let specs: OutputSpec[];
    try {
      specs = def.infer(inputs, attrs);
    } catch (e) {
      const shapes = inputs.map((v) => `[${v.shape.join(',')}]:${v.dtype}`).join(', ');
      throw new GraphError(`node '${name}' (${op}): ${(e as Error).message}; inputs ${shapes}`);
    }
    const node: Node = { id, op, name, inputs: [...inputs], outputs: [], attrs: { ...attrs }, domain: def.domain };
    node.outputs = specs.map((s, i) => this.newValue(s.shape, s.dtype, 'node', `${name}:${i}`, node));
    this.nodes.push(node);
    return node.outputs;
  }

  private newValue(shape: readonly number[], dtype: DType, kind: ValueKind, name: string, producer: Node | null): Value {
    const v = new Value(this, this.nextId++, Object.freeze([...shape]), dtype, kind, name, producer);
    this.values.push(v);
    return v;
  }
}

/** Nodes needed to compute `outputs`, in a valid execution order. */
export function nodesFor(outputs: readonly Value[]): Node[] {
  const seen = new Set<number>();
  const order: Node[] = [];
  // Iterative DFS: model graphs are deep enough to overflow a recursive walk.
  const stack: { node: Node; next: number }[] = [];
  const visit = (v: Value) => {
    const root = v.producer;
    if (!root || seen.has(root.id)) return;
    seen.add(root.id);
    stack.push({ node: root, next: 0 });
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.node.inputs.length) {
        const p = top.node.inputs[top.next++]!.producer;
        if (p && !seen.has(p.id)) {
          seen.add(p.id);
          stack.push({ node: p, next: 0 });
        }
      } else {
        order.push(top.node);
        stack.pop();
      }
    }
  };
  for (const v of outputs) visit(v);
  return order;
}
