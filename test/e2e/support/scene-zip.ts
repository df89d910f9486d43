// A small training set from the pretraining scenes: the penguin (or another concept) centred on plain
// backgrounds, 128×128 PNGs each with a .txt caption "TOK on a <colour> background", as a ZIP.

import sharp from 'sharp';
import yazl from 'yazl';
import { listConcepts, loadSprites, renderScene } from '../../../src/model/pretrain/scenes.ts';

const BACKGROUNDS = ['white', 'blue', 'green', 'yellow'];

export async function sceneZip(n = 3, concept = 'penguin'): Promise<Buffer> {
  const sprites = await loadSprites(listConcepts().filter((c) => c.name === concept));
  const zip = new yazl.ZipFile();
  for (let i = 0; i < n; i++) {
    const bg = BACKGROUNDS[i % BACKGROUNDS.length]!;
    const img = renderScene({ background: bg, objects: [{ concept, cx: 0.5, cy: 0.5, size: 0.7 }] }, sprites, 128, 128);
    zip.addBuffer(
      await sharp(img.data, { raw: { width: 128, height: 128, channels: 3 } })
        .png()
        .toBuffer(),
      `img${i}.png`,
    );
    zip.addBuffer(Buffer.from(`TOK on a ${bg} background`), `img${i}.txt`);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
