import type { BuildOptions } from 'esbuild';

/** One esbuild configuration for the committed bundle and for the test that checks it is fresh. */
export function dashboardBuildOptions(): BuildOptions {
  const root = new URL('./', import.meta.url).pathname;
  return {
    absWorkingDir: root,
    entryPoints: { app: 'src/main.tsx' },
    outdir: 'dist',
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'eof',
    // Ordinary files only: no paths of this machine end up in the output.
    sourcemap: false,
    logLevel: 'warning',
  };
}
