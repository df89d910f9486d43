// The dashboard is served from disk, offline: / is a page whose every asset the server itself answers
// (the bundle and its CSS, uPlot's included), and nothing else under /assets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../service/support/harness.ts';

describe('dashboard assets', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('serves the page, its bundle and its CSS, all from this server', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(refs.sort(), ['/assets/app.css', '/assets/app.js', '/docs']);
    const js = await fetch(`${server.url}/assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type')!, /^text\/javascript/);
    const css = await fetch(`${server.url}/assets/app.css`);
    assert.match(css.headers.get('content-type')!, /^text\/css/);
    assert.match(await css.text(), /\.uplot\{/, "uPlot's stylesheet is in the bundle's CSS");
    assert.doesNotMatch(
      await js.text(),
      /https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\/[^\s"'`]*\.(js|css)/i,
      'the bundle loads no script or style from elsewhere',
    );
  });

  it('answers 404 for anything else under /assets', async () => {
    for (const name of ['index.html', '..%2Fpackage.json', 'app.js.map']) {
      assert.equal((await fetch(`${server.url}/assets/${name}`)).status, 404, name);
    }
  });
});
