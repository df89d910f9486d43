// The dashboard in a real browser: Debian's Chromium driven by playwright-core (no browser download),
// against an in-process server with the shipped flux-mini. A new user's path: upload a folder → edit a
// caption → train (100 iterations, the API's least, at priority speed) → loss curve and previews appear →
// generate → download the image and the LoRA → delete with confirmation. Every step is screenshotted at
// 1280×800 (one at phone width) into test-artifacts/dashboard/. Skipped, saying why, without Chromium
// (.ci/ensure-chromium.sh installs it best effort).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { listConcepts, loadSprites, renderScene } from '../../src/model/pretrain/scenes.ts';
import { ThreadedBackend } from '../../src/service/jobs/threaded-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer } from '../service/support/harness.ts';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
const ARTIFACTS = new URL('../../test-artifacts/dashboard/', import.meta.url).pathname;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** A folder as a user would pick it: four pictures of one emoji concept, three with a .txt caption. */
async function datasetFolder(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'fluxtune-dashboard-')), 'penguin-photos');
  await mkdir(dir);
  const sprites = await loadSprites(listConcepts().filter((c) => c.name === 'penguin'));
  const scenes = [
    { bg: 'white', cx: 0.5, size: 0.7 },
    { bg: 'blue', cx: 0.4, size: 0.6 },
    { bg: 'green', cx: 0.6, size: 0.65 },
    { bg: 'yellow', cx: 0.5, size: 0.55 },
  ];
  for (const [i, s] of scenes.entries()) {
    const img = renderScene({ background: s.bg, objects: [{ concept: 'penguin', cx: s.cx, cy: 0.5, size: s.size }] }, sprites, 256, 256);
    await writeFile(
      join(dir, `penguin-${i + 1}.png`),
      await sharp(img.data, { raw: { width: 256, height: 256, channels: 3 } })
        .png()
        .toBuffer(),
    );
    if (i < 3) await writeFile(join(dir, `penguin-${i + 1}.txt`), `TOK on a ${s.bg} background`);
  }
  return dir;
}

describe('dashboard in Chromium', { skip: CHROMIUM ? false : 'no Chromium at /usr/bin/chromium (or CHROMIUM_PATH): run .ci/ensure-chromium.sh' }, () => {
  let backend: ThreadedBackend;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let folder: string;
  const pageErrors: string[] = [];
  const shots: string[] = [];
  const shot = async (name: string) => {
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path, fullPage: false });
    shots.push(path);
  };

  before(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    [backend, folder, browser] = await Promise.all([
      ThreadedBackend.start({ module: new URL('../../src/model/index.ts', import.meta.url).href, exportName: 'loadDefaultBackend' }),
      datasetFolder(),
      chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] }),
    ]);
    server = await startTestServer({ backend });
    const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Every answer of 400 or more is a bug of the page here (the flow makes no mistakes): named by its URL.
    page.on('response', (r) => r.status() >= 400 && pageErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await backend?.close();
    if (folder) await rm(join(folder, '..'), { recursive: true, force: true });
    if (shots.length) console.log(`screenshots:\n${shots.join('\n')}`);
  });

  it('uploads a folder, edits a caption, trains, shows previews, generates, downloads and deletes', { timeout: 900_000 }, async () => {
    await page.goto(server.url);
    await page.getByLabel('API key').fill(KEY_A);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByRole('heading', { name: 'Finetunes' }).waitFor();
    await shot('01-empty');

    // Upload a folder: three images come with their .txt, the fourth will be auto-captioned.
    await page.getByRole('navigation').getByRole('link', { name: 'New finetune' }).click();
    await page.getByTestId('folder-input').setInputFiles(folder);
    const thumbs = page.locator('.thumb');
    await thumbs.nth(3).waitFor();
    assert.equal(await thumbs.count(), 4);
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'penguin-photos', 'the folder names the finetune');
    assert.equal(await thumbs.locator('.badge.file').count(), 3);
    assert.equal(await thumbs.locator('.badge.auto').count(), 1);
    await shot('02-upload');

    // Edit the auto caption: it becomes the user's, and is what the finetune trains with.
    const autoCaption = page.getByLabel('Caption auto');
    await autoCaption.fill('TOK standing on a yellow background');
    assert.equal(await thumbs.locator('.badge.edited').count(), 1);
    await page.getByLabel('Mode').selectOption('character');
    await page.getByLabel('Iterations').fill('100');
    await page.getByLabel('Priority').selectOption('speed');
    await page.getByLabel('Finetune type').selectOption('lora');
    await page.getByLabel('LoRA rank').selectOption('16');
    await page.locator('#params-h').evaluate((h) => h.scrollIntoView());
    await shot('03-caption-and-parameters');

    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForURL(/#\/finetune\/[0-9a-f-]{36}$/);
    const finetuneId = /#\/finetune\/(.+)$/.exec(page.url())![1]!;
    await page.locator('.chart canvas').waitFor({ timeout: 120_000 });
    await page.getByText(/about .* left/).waitFor({ timeout: 120_000 });
    await shot('04-training');

    // Previews arrive at each quarter; the training view shows them as they come.
    await page.getByTestId('previews').locator('img').nth(1).waitFor({ timeout: 480_000 });
    await page.evaluate('window.scrollTo(0, 0)');
    await shot('05-previews');
    // The list shows it training too, with its latest preview; its card leads back to it.
    await page.getByRole('navigation').getByRole('link', { name: 'Finetunes' }).click();
    await page.locator('.card').getByText('penguin-photos').waitFor();
    await shot('06-list');
    await page.locator('.card-link').click();
    await page.getByTestId('phase').getByText('Ready').waitFor({ timeout: 480_000 });
    assert.equal(await page.getByTestId('previews').locator('img').count(), 3, 'previews at steps 25, 50 and 75');
    const captions = page.getByTestId('captions').locator('tbody tr');
    assert.equal(await captions.count(), 4);
    assert.match((await captions.filter({ hasText: 'penguin-4.png' }).textContent()) ?? '', /TOK standing on a yellow background\s*yours/);
    await page.evaluate('window.scrollTo(0, 0)');
    await shot('07-ready');

    // Generate with it, small and quick, then download the image.
    await page.getByRole('link', { name: 'Generate with it' }).click();
    await page.getByLabel('Prompt').fill('a photo of TOK on a blue background');
    await page.getByLabel('Width (px)').fill('256');
    await page.getByLabel('Height (px)').fill('256');
    await page.getByLabel('Steps').fill('8');
    await page.getByLabel('Seed').fill('7');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const result = page.getByTestId('results').locator('img').first();
    await result.waitFor({ timeout: 180_000 });
    await shot('08-generate');
    const [imageDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).first().click()]);
    const jpeg = await readFile((await imageDownload.path())!);
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'the downloaded image is a JPEG');
    assert.deepEqual(
      await sharp(jpeg)
        .metadata()
        .then((m) => [m.width, m.height]),
      [256, 256],
    );

    // The finetune page lists the generation, and hands out the LoRA.
    await page.goto(`${server.url}/#/finetune/${finetuneId}`);
    await page.getByRole('heading', { name: 'Generations (1)' }).waitFor();
    await page.getByLabel('Layout').selectOption('diffusers');
    const [loraDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .safetensors' }).click()]);
    assert.equal(loraDownload.suggestedFilename(), 'penguin-photos.diffusers.safetensors');
    const lora = await readFile((await loraDownload.path())!);
    const headerLength = Number(lora.readBigUInt64LE(0));
    const header = JSON.parse(lora.subarray(8, 8 + headerLength).toString()) as Record<string, unknown>;
    assert.ok(
      Object.keys(header).some((k) => k.startsWith('transformer.')),
      'a diffusers (PEFT) LoRA',
    );
    await page.getByRole('heading', { name: 'Generations (1)' }).scrollIntoViewIfNeeded();
    await shot('09-finetune-page');

    // "Run again" opens the generate panel with that generation's route and parameters.
    await page.getByRole('button', { name: 'Run again' }).click();
    await page.getByLabel('Prompt').waitFor();
    assert.equal(await page.getByLabel('Route').inputValue(), 'flux-pro-finetuned');
    await page.waitForFunction("document.getElementById('g-seed')?.value === '7'");
    assert.equal(await page.getByLabel('Prompt').inputValue(), 'a photo of TOK on a blue background');
    assert.deepEqual([await page.getByLabel('Width (px)').inputValue(), await page.getByLabel('Steps').inputValue()], ['256', '8']);
    await page.setViewportSize(PHONE);
    await shot('10-phone-generate');
    await page.goto(`${server.url}/#/finetune/${finetuneId}`);
    await page.getByRole('heading', { name: 'Generations (1)' }).waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await shot('11-phone-finetune-page');
    await page.setViewportSize(DESKTOP);

    // Delete: a confirmation first; "Keep it" keeps it, the destructive button deletes it.
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await shot('12-confirm-delete');
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    assert.deepEqual((await apiClient(server.url, KEY_A).get('/v1/my_finetunes')).body.finetunes, [finetuneId]);
    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete finetune' }).click();
    await page.getByText('No finetunes yet').waitFor();
    await shot('13-deleted');
    assert.deepEqual((await apiClient(server.url, KEY_A).get('/v1/my_finetunes')).body.finetunes, []);
    assert.deepEqual(pageErrors, [], 'no errors in the page');
  });

  it("says per file what is wrong before upload, and the server's refusals as sentences naming the field", { timeout: 60_000 }, async () => {
    const gif = join(folder, 'not-really.png');
    await writeFile(
      gif,
      await sharp({ create: { width: 300, height: 300, channels: 3, background: 'red' } })
        .gif()
        .toBuffer(),
    );
    // On its own too (the key is this browser's, kept by the dashboard in localStorage).
    await page.goto(`${server.url}/#/new`);
    await page.evaluate(`localStorage.setItem('fluxtune-key', '${KEY_A}')`);
    await page.reload();
    await page.getByLabel('Choose images').setInputFiles([gif, join(folder, 'penguin-1.png'), join(folder, 'penguin-1.txt')]);
    const bad = page.locator('.thumb.bad');
    await bad.waitFor();
    assert.match((await bad.textContent()) ?? '', /not-really\.png.*Not a JPG, PNG or WebP image \(judged by its content, not its name\)/);
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('alert').getByText('Fix or remove not-really.png.').waitFor();
    await shot('14-checks');

    // Removed, the rest goes to the server, which refuses 50 iterations: one sentence, the field named, no base64 echoed.
    await page.getByRole('button', { name: 'Remove not-really.png' }).click();
    await page.getByLabel('Name', { exact: true }).fill('too short');
    await page.getByLabel('Iterations').fill('50');
    pageErrors.length = 0;
    await page.getByRole('button', { name: 'Start training' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('Iterations: Input should be greater than or equal to 100.').waitFor();
    assert.equal(await alert.locator('li').count(), 1);
    assert.deepEqual(
      pageErrors.map((e) => e.replace(/ http.*/, '')),
      ['422 POST'],
      'the one refusal, and nothing else',
    );
    assert.ok(await alert.evaluate((el) => el === el.ownerDocument.activeElement), 'the refusal has the focus (scrolled into view)');
    await shot('15-server-refusal');
  });
});
