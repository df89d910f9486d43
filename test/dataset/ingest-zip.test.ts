import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { DatasetRejection } from '../../src/dataset/dataset-rejection.ts';
import { ingestZip } from '../../src/dataset/ingest-zip.ts';
import { DEFAULT_DATASET_LIMITS } from '../../src/dataset/limits.ts';
import { BAD_ZIP_CASES } from './bad-zip-corpus.ts';
import { b64, buildZip, solidJpeg, solidPng, solidWebp } from './zip-fixtures.ts';

describe('ingestZip: the bad-ZIP corpus', () => {
  for (const c of BAD_ZIP_CASES) {
    it(`refuses: ${c.name}`, async () => {
      await assert.rejects(ingestZip(await c.fileData()), (err: unknown) => {
        assert.ok(err instanceof DatasetRejection, `expected DatasetRejection, got ${String(err)}`);
        for (const s of c.expect) assert.ok(err.message.includes(s), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(s)}`);
        return true;
      });
    });
  }

  it('refuses a ZIP whose total uncompressed size passes the cap, naming the entry that crossed it', async () => {
    const noise = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 2654435761) >>> 24));
    const zip = await buildZip([
      { name: 'a.png', data: noise },
      { name: 'b.png', data: noise },
    ]);
    const limits = { ...DEFAULT_DATASET_LIMITS, maxTotalUncompressedBytes: 500 * 1024 };
    await assert.rejects(ingestZip(b64(zip), limits), /b\.png: .*in total/);
  });

  it('refuses a ZIP over the size limit before decoding it', async () => {
    const limits = { ...DEFAULT_DATASET_LIMITS, maxZipBytes: 1024 };
    await assert.rejects(ingestZip(Buffer.alloc(4096, 1).toString('base64'), limits), /larger than/);
  });
});

describe('ingestZip: valid datasets', () => {
  it('reads JPG/PNG/WebP in nested folders, pairs captions by stem, ignores __MACOSX and dotfiles', async () => {
    const zip = await buildZip([
      { name: 'set/', data: '' },
      { name: 'set/one.jpg', data: await solidJpeg(40, 20) },
      { name: 'set/one.txt', data: '\uFEFF  a photo of TOK on a table \n' },
      { name: 'set/deeper/two.PNG', data: await solidPng(16, 16) },
      { name: 'three.webp', data: await solidWebp(10, 10) },
      { name: 'three.txt', data: '   ' },
      { name: '__MACOSX/set/._one.jpg', data: 'resource fork' },
      { name: '.DS_Store', data: 'junk' },
      { name: 'set/.hidden.png', data: 'not even an image' },
      { name: 'notes.md', data: '# ignored' },
    ]);
    const ds = await ingestZip(`data:application/zip;base64,${b64(zip)}`);
    assert.deepEqual(
      ds.images.map((i) => [i.file, i.width, i.height, i.userCaption]),
      [
        ['set/deeper/two.PNG', 16, 16, null],
        ['set/one.jpg', 40, 20, 'a photo of TOK on a table'],
        ['three.webp', 10, 10, null],
      ],
    );
    // WebP alpha is flattened: the training copy is 3-channel.
    const meta = await sharp(ds.images[2]!.png).metadata();
    assert.equal(meta.channels, 3);
  });

  it('applies EXIF orientation and caps images at 1 MP', async () => {
    const zip = await buildZip([
      { name: 'rotated.jpg', data: await solidJpeg(60, 30, 6) },
      { name: 'big.png', data: await solidPng(2000, 1000) },
    ]);
    const ds = await ingestZip(b64(zip));
    const big = ds.images.find((i) => i.file === 'big.png')!;
    assert.ok(big.width * big.height <= 1024 * 1024, `${big.width}x${big.height}`);
    assert.ok(Math.abs(big.width / big.height - 2) < 0.01);
    const rotated = ds.images.find((i) => i.file === 'rotated.jpg')!;
    assert.deepEqual([rotated.width, rotated.height], [30, 60]);
  });
});
