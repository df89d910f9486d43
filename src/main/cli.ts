#!/usr/bin/env node
import { clientMain, reportCliError } from '../client/cli.ts';
// fluxtune's command line. serve/worker/keys start the service (this folder is the only place that
// wires it up); every other command is the HTTP client's (src/client), which never loads server code.
import { parseArgs } from '../client/cli-args.ts';

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const json = args.flags.get('json') === true;
  switch (args.positionals[0]) {
    case 'serve':
      return (await import('./server-commands.ts')).serve(args);
    case 'worker':
      return (await import('./server-commands.ts')).worker(args);
    case 'keys':
      return (await import('./server-commands.ts')).keys(args, json);
    default:
      return clientMain(args);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  reportCliError(err);
  // A server that cannot serve must not linger: whatever handle is still open (a model thread, a
  // half-opened database), the process ends now, non-zero, with the reason printed above.
  process.exit(1);
});
