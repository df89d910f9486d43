// Builds the dashboard (web/src, Preact + uPlot + fflate) into web/dist/app.js and app.css (and the bundled
// packages' LICENSES.txt), which are committed:
// the server serves them from disk and nothing is fetched at run time. test/web/bundle-fresh.test.ts fails when
// web/dist is not what this script writes from web/src. Run: npm run build:web
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dashboardBuildOptions, thirdPartyLicenses } from '../web/build-options.ts';

const outDir = fileURLToPath(new URL('../web/dist/', import.meta.url));
const esbuild = await import('esbuild');
const result = await esbuild.build({ ...dashboardBuildOptions(), write: false });
await mkdir(outDir, { recursive: true });
await writeFile(`${outDir}LICENSES.txt`, thirdPartyLicenses());
for (const file of result.outputFiles) {
  await writeFile(file.path, file.contents);
  console.log(`${file.path.slice(outDir.length - 'web/dist/'.length)}  ${(file.contents.length / 1024).toFixed(1)} KiB`);
}
