// npm run novel:grid -- [--out models/flux-mini/novel-suite.png]: one row per novel concept (src/model/eval/novel-concepts.ts), its 8 training photos.
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { NOVEL_CONCEPTS } from '../src/model/eval/novel-concepts.ts';
import { novelDataset } from '../src/model/eval/novel-dataset.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, cell: { type: 'string' } } });
const cell = Number(values.cell ?? 96);
const rows = await Promise.all(NOVEL_CONCEPTS.map((c, i) => novelDataset(c, i)));
const cols = rows[0]!.length;
const tiles = [];
for (const [r, row] of rows.entries()) {
  for (const [c, ex] of row.entries()) {
    const png = await sharp(ex.image.data, { raw: { width: ex.image.width, height: ex.image.height, channels: 3 } })
      .resize(cell, cell)
      .png()
      .toBuffer();
    tiles.push({ input: png, left: c * cell, top: r * cell });
  }
}
const out = values.out ?? 'models/flux-mini/novel-suite.png';
await sharp({ create: { width: cols * cell, height: rows.length * cell, channels: 3, background: '#ffffff' } })
  .composite(tiles)
  .png()
  .toFile(out);
console.log(out);
