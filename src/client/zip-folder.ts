import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import yazl from 'yazl';

const INCLUDED = /\.(jpe?g|png|webp|txt)$/i;

/** A folder of images (+ .txt captions) → ZIP bytes, as the BFL guide asks users to prepare. Dotfiles are skipped. */
export async function zipFolder(folder: string): Promise<Buffer> {
  const files: string[] = [];
  async function walk(dir: string) {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === '__MACOSX') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && INCLUDED.test(e.name)) files.push(p);
    }
  }
  await walk(folder);
  files.sort();
  if (files.length === 0) throw new Error(`${folder} contains no .jpg/.jpeg/.png/.webp images`);
  const zip = new yazl.ZipFile();
  for (const f of files) {
    // Images are already compressed; deflating them again only costs time.
    zip.addBuffer(await readFile(f), relative(folder, f).split(sep).join('/'), { compress: /\.txt$/i.test(f) });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
