/** Parsed command line: positionals and --flags (--name value, --name=value, --flag, --no-flag). Underscores and dashes are equivalent. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | boolean>;
}

const BOOLEAN_FLAGS = new Set(['json', 'wait', 'help', 'captioning', 'worker', 'raw', 'prompt-upsampling']);

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
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export function flagBool(args: ParsedArgs, name: string): boolean | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new Error(`--${name} must be true or false`);
}
