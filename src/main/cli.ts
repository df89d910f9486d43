#!/usr/bin/env node

// fluxtune's command line. serve/worker/keys start the service (this folder is the only place that
// wires it up); every other command is the HTTP client's (src/client), which never loads server code.

import { clientMain, reportCliError, resolveCommand } from '../client/cli.ts';
import { parseArgs } from '../client/cli-args.ts';

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const spec = resolveCommand(args);
  if (!spec) return;
  const json = args.flags.get('json') === true;
  switch (spec.name) {
    case 'serve':
      return (await import('./server-commands.ts')).serve(args);
    case 'worker':
      return (await import('./server-commands.ts')).worker(args);
    case 'keys':
      return (await import('./server-commands.ts')).keys(args, json);
    default:
      return clientMain(args, spec);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  reportCliError(err);
  // A server that cannot serve must not linger: whatever handle is still open (a model thread, a
  // half-opened database), the process ends now, non-zero (2 for usage errors), with the reason printed above.
  process.exit(process.exitCode ?? 1);
});
