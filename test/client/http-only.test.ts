// The SDK and CLI talk HTTP only: src/client may import itself and the wire contract (src/api, zod
// schemas and nothing else), never the service, the model, the engine or the start-up wiring.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importsOf, SRC, sourceFiles, srcName } from '../support/import-graph.ts';

const within = (file: string, ...dirs: string[]) => dirs.some((d) => file.startsWith(join(SRC, d)));

describe('layering', () => {
  it('src/client imports only src/client and src/api', () => {
    const files = sourceFiles(join(SRC, 'client'));
    assert.ok(files.length > 5);
    const crossings = files.flatMap((f) =>
      importsOf(f)
        .filter((dep) => !within(dep, 'client/', 'api/'))
        .map((dep) => `${srcName(f)} imports ${srcName(dep)}`),
    );
    assert.deepEqual(crossings, []);
  });

  it('src/api (the wire contract) imports only itself', () => {
    const crossings = sourceFiles(join(SRC, 'api')).flatMap((f) =>
      importsOf(f)
        .filter((dep) => !within(dep, 'api/'))
        .map((dep) => `${srcName(f)} imports ${srcName(dep)}`),
    );
    assert.deepEqual(crossings, []);
  });

  it('nothing outside src/main imports the start-up wiring', () => {
    const crossings = sourceFiles(SRC)
      .filter((f) => !within(f, 'main/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((dep) => within(dep, 'main/'))
          .map((dep) => `${srcName(f)} imports ${srcName(dep)}`),
      );
    assert.deepEqual(crossings, []);
  });

  it('src/engine knows nothing of HTTP, src/model nothing of the database', () => {
    const crossings = [
      ...sourceFiles(join(SRC, 'engine')).flatMap((f) =>
        importsOf(f)
          .filter((dep) => !within(dep, 'engine/'))
          .map((dep) => `${srcName(f)} imports ${srcName(dep)}`),
      ),
      ...sourceFiles(join(SRC, 'model')).flatMap((f) =>
        importsOf(f)
          .filter((dep) => within(dep, 'service/', 'client/', 'main/', 'api/'))
          .map((dep) => `${srcName(f)} imports ${srcName(dep)}`),
      ),
    ];
    assert.deepEqual(crossings, []);
  });
});
