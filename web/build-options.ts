import { readFileSync } from 'node:fs';
import type { BuildOptions } from 'esbuild';

/** What the bundle contains of other people's code; their licences (all MIT) ship next to it. */
export const BUNDLED_PACKAGES = ['preact', 'uplot', 'fflate'] as const;

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
    banner: { js: `/*! fluxtune dashboard. Bundles ${BUNDLED_PACKAGES.join(', ')} (MIT): their licences are in LICENSES.txt beside this file. */` },
    // Ordinary files only: no paths of this machine end up in the output.
    sourcemap: false,
    logLevel: 'warning',
  };
}

/** web/dist/LICENSES.txt: each bundled package's name, version and LICENSE file, as MIT asks of a copy. */
export function thirdPartyLicenses(): string {
  const nodeModules = new URL('../node_modules/', import.meta.url);
  return BUNDLED_PACKAGES.map((name) => {
    const { version } = JSON.parse(readFileSync(new URL(`${name}/package.json`, nodeModules), 'utf8')) as { version: string };
    return `${name} ${version}\n\n${readFileSync(new URL(`${name}/LICENSE`, nodeModules), 'utf8').trim()}\n`;
  }).join(`\n${'-'.repeat(72)}\n\n`);
}
