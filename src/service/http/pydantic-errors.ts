import type { z } from 'zod';

/** One entry of FastAPI's 422 body: {"detail": [{type, loc, msg, input, ctx?}]}. */
export interface PydanticError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export type Location = 'body' | 'query';

/** zod issues → pydantic v2's error types and wording, so clients written against BFL parse our 422s unchanged. */
export function toPydanticErrors(issues: readonly z.core.$ZodIssue[], where: Location, root: unknown): PydanticError[] {
  return issues.map((issue) => {
    const loc: (string | number)[] = [where, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const input = 'input' in issue ? issue.input : undefined;
    const mapped = mapIssue(issue, input, root);
    return {
      type: mapped.type,
      loc,
      msg: mapped.msg,
      input: echoInput(mapped.input === undefined ? (input ?? null) : mapped.input),
      ...(mapped.ctx ? { ctx: mapped.ctx } : {}),
    };
  });
}

interface Mapped {
  type: string;
  msg: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

function mapIssue(issue: z.core.$ZodIssue, input: unknown, root: unknown): Mapped {
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) {
        // pydantic reports a missing field with the enclosing object as input.
        return { type: 'missing', msg: 'Field required', input: valueAt(root, issue.path.slice(0, -1)) ?? null };
      }
      switch (issue.expected) {
        case 'int':
          return typeof input === 'number'
            ? { type: 'int_from_float', msg: 'Input should be a valid integer, got a number with a fractional part' }
            : { type: 'int_type', msg: 'Input should be a valid integer' };
        case 'number':
          return { type: 'float_type', msg: 'Input should be a valid number' };
        case 'string':
          return { type: 'string_type', msg: 'Input should be a valid string' };
        case 'boolean':
          return { type: 'bool_type', msg: 'Input should be a valid boolean' };
        case 'object':
          return { type: 'model_attributes_type', msg: 'Input should be a valid dictionary or object to extract fields from' };
        default:
          return { type: `${issue.expected}_type`, msg: `Input should be a valid ${issue.expected}` };
      }
    }
    case 'too_small':
      if (issue.origin === 'string') {
        return {
          type: 'string_too_short',
          msg: `String should have at least ${issue.minimum} character${Number(issue.minimum) === 1 ? '' : 's'}`,
          ctx: { min_length: issue.minimum },
        };
      }
      return issue.inclusive
        ? { type: 'greater_than_equal', msg: `Input should be greater than or equal to ${py(issue.minimum)}`, ctx: { ge: issue.minimum } }
        : { type: 'greater_than', msg: `Input should be greater than ${py(issue.minimum)}`, ctx: { gt: issue.minimum } };
    case 'too_big':
      if (issue.origin === 'string') {
        return {
          type: 'string_too_long',
          msg: `String should have at most ${issue.maximum} character${Number(issue.maximum) === 1 ? '' : 's'}`,
          ctx: { max_length: issue.maximum },
        };
      }
      return issue.inclusive
        ? { type: 'less_than_equal', msg: `Input should be less than or equal to ${py(issue.maximum)}`, ctx: { le: issue.maximum } }
        : { type: 'less_than', msg: `Input should be less than ${py(issue.maximum)}`, ctx: { lt: issue.maximum } };
    case 'not_multiple_of':
      return { type: 'multiple_of', msg: `Input should be a multiple of ${py(issue.divisor)}`, ctx: { multiple_of: issue.divisor } };
    case 'invalid_value': {
      if (input === undefined) return { type: 'missing', msg: 'Field required', input: valueAt(root, issue.path.slice(0, -1)) ?? null };
      const expected = listOf(issue.values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))));
      return { type: 'enum', msg: `Input should be ${expected}`, ctx: { expected } };
    }
    case 'custom': {
      const params = (issue.params ?? {}) as { pydanticType?: string };
      if (params.pydanticType) return { type: params.pydanticType, msg: issue.message };
      return { type: 'value_error', msg: `Value error, ${issue.message}` };
    }
    default:
      return { type: 'value_error', msg: issue.message };
  }
}

const ECHO_DEPTH = 3;
const ECHO_STRING = 80;
const ECHO_ITEMS = 20;

/**
 * The `input` a 422 shows back: what was sent, cut down so it is never large (a 100 MB base64
 * string) or deep (a body of 100k nested arrays would overflow JSON.stringify's stack).
 */
export function echoInput(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > ECHO_STRING ? `${value.slice(0, ECHO_STRING)}…` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= ECHO_DEPTH) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) {
    const items = value.slice(0, ECHO_ITEMS).map((v) => echoInput(v, depth + 1));
    return value.length > ECHO_ITEMS ? [...items, '…'] : items;
  }
  const entries = Object.entries(value);
  const shown = entries.slice(0, ECHO_ITEMS).map(([k, v]) => [k, echoInput(v, depth + 1)]);
  return Object.fromEntries(entries.length > ECHO_ITEMS ? [...shown, ['…', '…']] : shown);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Python's str() of a float for the common cases (1e-06, 0.005, 100). */
function py(n: unknown): string {
  if (typeof n === 'bigint') return n.toString();
  if (typeof n !== 'number') return String(n);
  if (n !== 0 && Math.abs(n) < 1e-4) return n.toExponential().replace(/e-(\d)$/, 'e-0$1');
  return String(n);
}

function listOf(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** A 422 for a single field, e.g. a rejected ZIP at ["body", "file_data"]. */
export function singleError(where: Location, field: string, type: string, msg: string, input: unknown): { detail: PydanticError[] } {
  return { detail: [{ type, loc: [where, field], msg, input }] };
}
