// Every kind of upload the service must refuse, with a fragment its 422 message must contain.
// Used both by the ingestion unit tests and by the API test (422 over HTTP, data dir unchanged).
import { buildZip, deflated, patchCentralSizes, patchCrc, renameInPlace, setEncryptedFlag, solidGif, solidJpeg, solidPng } from './zip-fixtures.ts';

export interface BadZipCase {
  name: string;
  fileData: () => Promise<string>;
  /** Substrings the error message must contain (file name and reason). */
  expect: string[];
}

const b64 = (b: Buffer) => b.toString('base64');

export const BAD_ZIP_CASES: BadZipCase[] = [
  {
    name: 'not base64',
    fileData: async () => '!!!not-base64!!!',
    expect: ['not valid base64'],
  },
  {
    name: 'not a zip',
    fileData: async () => b64(Buffer.from('hello, this is plainly not a zip archive at all')),
    expect: ['not a ZIP'],
  },
  {
    name: 'path traversal',
    fileData: async () => b64(renameInPlace(await buildZip([{ name: 'xx/evil.png', data: await solidPng(8, 8) }]), 'xx/evil.png', '../evil.png')),
    expect: ['../evil.png', 'traversal'],
  },
  {
    name: 'nested traversal',
    fileData: async () =>
      b64(renameInPlace(await buildZip([{ name: 'a/xx/yy/evil.png', data: await solidPng(8, 8) }]), 'a/xx/yy/evil.png', 'a/../../evil.png')),
    expect: ['a/../../evil.png', 'traversal'],
  },
  {
    name: 'absolute path',
    fileData: async () => b64(renameInPlace(await buildZip([{ name: 'etc/passwd.png', data: await solidPng(8, 8) }]), 'etc/passwd.png', '/tc/passwd.png')),
    expect: ['/tc/passwd.png', 'absolute'],
  },
  {
    name: 'symlink',
    fileData: async () =>
      b64(
        await buildZip([
          { name: 'ok.png', data: await solidPng(8, 8) },
          { name: 'link.png', data: '/etc/passwd', mode: 0o120777 },
        ]),
      ),
    expect: ['link.png', 'symbolic link'],
  },
  {
    name: 'ratio bomb',
    fileData: async () => b64(await buildZip([{ name: 'bomb.png', data: Buffer.alloc(8 * 1024 * 1024) }])),
    expect: ['bomb.png', 'compression ratio'],
  },
  {
    name: 'lying header (declares 1 KB, inflates to 8 MB)',
    fileData: async () => {
      const zip = await buildZip([{ name: 'liar.png', data: Buffer.alloc(8 * 1024 * 1024) }]);
      return b64(patchCentralSizes(zip, 'liar.png', { uncompressed: 1024 }));
    },
    expect: ['liar.png', 'header'],
  },
  {
    name: 'wrong CRC-32 (a corrupted download: every byte decompresses, but not the bytes that were zipped)',
    fileData: async () => {
      const zip = await buildZip([
        { name: 'ok.png', data: await solidPng(16, 16) },
        { name: 'flipped.png', data: await solidPng(16, 16, [1, 2, 3]) },
      ]);
      return b64(patchCrc(zip, 'flipped.png', 0x12345678));
    },
    expect: ['flipped.png', 'CRC-32'],
  },
  {
    name: 'encrypted flag on a stored entry (no encryption header)',
    fileData: async () => b64(setEncryptedFlag(await buildZip([{ name: 'locked.png', data: await solidPng(16, 16), compress: false }]), 'locked.png')),
    expect: ['locked.png', 'encrypted'],
  },
  {
    name: 'encrypted flag on a deflated entry',
    fileData: async () => b64(setEncryptedFlag(await buildZip([{ name: 'secret.png', data: await solidPng(16, 16) }]), 'secret.png')),
    expect: ['secret.png', 'encrypted'],
  },
  {
    name: 'too many images',
    fileData: async () => {
      const png = await solidPng(8, 8);
      return b64(await buildZip(Array.from({ length: 21 }, (_, i) => ({ name: `img${String(i).padStart(2, '0')}.png`, data: png }))));
    },
    expect: ['img20.png', 'too many images', '20'],
  },
  {
    name: 'no images',
    fileData: async () =>
      b64(
        await buildZip([
          { name: 'readme.txt', data: 'just text' },
          { name: '__MACOSX/._a.png', data: await solidPng(8, 8) },
        ]),
      ),
    expect: ['no images'],
  },
  {
    name: 'corrupt image',
    fileData: async () => {
      const png = await solidPng(32, 32);
      return b64(
        await buildZip([
          { name: 'good.png', data: png },
          { name: 'photos/broken.jpg', data: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]) },
        ]),
      );
    },
    expect: ['photos/broken.jpg', 'corrupt'],
  },
  {
    name: 'truncated jpeg',
    fileData: async () => {
      const jpg = await solidJpeg(64, 64);
      return b64(await buildZip([{ name: 'cut.jpg', data: jpg.subarray(0, Math.floor(jpg.length / 2)) }]));
    },
    expect: ['cut.jpg', 'corrupt'],
  },
  {
    name: 'unsupported format by extension',
    fileData: async () => b64(await buildZip([{ name: 'anim.gif', data: await solidGif(8, 8) }])),
    expect: ['anim.gif', 'unsupported image format'],
  },
  {
    name: 'unsupported format disguised as jpg',
    fileData: async () => b64(await buildZip([{ name: 'sneaky.jpg', data: await solidGif(8, 8) }])),
    expect: ['sneaky.jpg', 'gif'],
  },
  {
    name: 'caption not utf-8',
    fileData: async () =>
      b64(
        await buildZip([
          { name: 'a.png', data: await solidPng(8, 8) },
          { name: 'a.txt', data: Buffer.from([0xff, 0xfe, 0xc3, 0x28]) },
        ]),
      ),
    expect: ['a.txt', 'UTF-8'],
  },
];

/** Re-exported so tests can check that deflate helpers stay available for new cases. */
export { deflated };
