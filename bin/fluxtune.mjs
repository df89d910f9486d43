#!/usr/bin/env node
// npm bin entry: registers the TypeScript loader (tsx), then runs the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/main/cli.ts');
