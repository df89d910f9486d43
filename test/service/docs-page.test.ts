// /docs is Swagger UI over /openapi.json, served from the swagger-ui-dist package: everything the page
// loads comes from this server, so it works with no network.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildOpenApi } from '../../src/api/openapi.ts';
import { API_ROUTES } from '../../src/api/routes.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { startTestServer, type TestServer } from './support/harness.ts';

describe('API reference page', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ backend: new DeterministicTestBackend({ steps: 2 }) });
  });
  after(() => server.stop());

  it('loads only same-origin assets, and each is served with its type', async () => {
    const html = await (await fetch(`${server.url}/docs`)).text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(refs.length >= 3, 'the page loads its assets');
    assert.deepEqual(
      refs.filter((r) => !r.startsWith('/')),
      [],
      'no absolute (CDN) URLs',
    );
    assert.doesNotMatch(html, /https?:\/\//, 'no URL of another host anywhere in the page');
    for (const ref of refs) {
      const r = await fetch(`${server.url}${ref}`);
      assert.equal(r.status, 200, ref);
      assert.match(r.headers.get('content-type')!, /^(text\/css|text\/javascript|image\/png)/, ref);
      assert.ok((await r.arrayBuffer()).byteLength > 100, ref);
    }
    assert.match(html, /url: '\/openapi\.json'/);
    assert.equal((await fetch(`${server.url}/docs/assets/..%2Fpackage.json`)).status, 404);
    assert.equal((await fetch(`${server.url}/docs/assets/index.html`)).status, 404);
  });

  it('/openapi.json is the document generated from the route table', async () => {
    const served = (await (await fetch(`${server.url}/openapi.json`)).json()) as { info: { version: string }; paths: object; components: object };
    const built = buildOpenApi(API_ROUTES, { region: 'us1', version: served.info.version }) as { paths: object; components: object };
    assert.deepEqual(served.paths, JSON.parse(JSON.stringify(built.paths)));
    assert.deepEqual(served.components, JSON.parse(JSON.stringify(built.components)));
  });
});
