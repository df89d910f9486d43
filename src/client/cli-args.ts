import { COMMANDS, type FlagSpec, GLOBAL_FLAGS } from './cli-spec.ts';

/** Parsed command line: positionals and --flags (--name value, --name=value, --flag, --no-flag). Underscores and dashes are equivalent. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | boolean>;
}

/** Switches take no value: every declared flag without one. */
const BOOLEAN_FLAGS = new Set([...GLOBAL_FLAGS, ...COMMANDS.flatMap((c) => c.flags)].filter((f) => !f.value).map((f) => f.name));

/** A command line that cannot be run as written: exit code 2, with what would be right. */
export class UsageError extends Error {}

/** An unknown flag is an error naming the nearest valid one: a typo must not silently train with defaults. */
export function assertKnownFlags(args: ParsedArgs, command: string, allowed: readonly FlagSpec[]): void {
  const names = allowed.map((f) => f.name);
  for (const flag of args.flags.keys()) {
    if (names.includes(flag)) continue;
    const near = nearest(flag, names);
    throw new UsageError(`unknown option --${flag} for '${command}'${near ? `; did you mean --${near}?` : ''} (fluxtune ${command} --help lists them)`);
  }
}

/** The closest candidate by edit distance, if it is close enough to be a typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (!best || d < best.d) best = { name: c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq === -1 ? a.slice(2) : a.slice(2, eq)).replace(/_/g, '-');
    if (eq !== -1) flags.set(name, a.slice(eq + 1));
    else if (name.startsWith('no-') && BOOLEAN_FLAGS.has(name.slice(3))) flags.set(name.slice(3), false);
    else if (BOOLEAN_FLAGS.has(name) && !/^(true|false)$/i.test(argv[i + 1] ?? '')) flags.set(name, true);
    else if (i + 1 < argv.length) flags.set(name, argv[++i]!);
    else flags.set(name, true);
  }
  return { positionals, flags };
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function flagNumber(args: ParsedArgs, name: string): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export function flagBool(args: ParsedArgs, name: string): boolean | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new UsageError(`--${name} must be true or false`);
}
