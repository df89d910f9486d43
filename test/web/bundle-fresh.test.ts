// web/dist is committed (the server serves it; nothing is built at run time): it must be exactly what
// `npm run build:web` makes of web/src. And the dashboard talks HTTP only: web/src imports web/src, its
// front-end libraries, and nothing of src/ but the wire contract's types.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { dashboardBuildOptions, thirdPartyLicenses } from '../../web/build-options.ts';

const WEB = new URL('../../web/', import.meta.url).pathname;

describe('the dashboard bundle', () => {
  it('web/dist is what npm run build:web makes of web/src', async () => {
    const result = await build({ ...dashboardBuildOptions(), write: false });
    assert.deepEqual(result.errors, []);
    for (const file of result.outputFiles) {
      const name = file.path.slice(file.path.lastIndexOf('/dist/') + 1);
      const committed = readFileSync(join(WEB, name));
      assert.ok(committed.equals(Buffer.from(file.contents)), `${name} is stale: run npm run build:web and commit web/dist`);
    }
    assert.deepEqual(result.outputFiles.map((f) => f.path.slice(f.path.lastIndexOf('/') + 1)).sort(), ['app.css', 'app.js']);
    assert.equal(readFileSync(join(WEB, 'dist/LICENSES.txt'), 'utf8'), thirdPartyLicenses(), 'LICENSES.txt is stale: run npm run build:web');
  });

  it('web/src reaches src/ only for types of the wire contract (src/api)', () => {
    const files = readdirSync(join(WEB, 'src')).filter((f) => /\.tsx?$/.test(f));
    assert.ok(files.length > 10);
    const crossings: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(WEB, 'src', f), 'utf8');
      for (const m of text.matchAll(/^import\s+(type\s+)?[^'"]*?['"]([^'"]+)['"]/gm)) {
        const [, typeOnly, spec] = m as unknown as [string, string | undefined, string];
        if (spec.startsWith('./') || ['preact', 'preact/hooks', 'uplot', 'fflate', 'uplot/dist/uPlot.min.css'].includes(spec)) continue;
        if (typeOnly && (spec.startsWith('../../src/api/') || spec === 'zod')) continue;
        crossings.push(`${f} imports ${typeOnly ? 'type ' : ''}${spec}`);
      }
    }
    assert.deepEqual(crossings, []);
  });
});
