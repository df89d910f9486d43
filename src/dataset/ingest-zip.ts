import { decodeBase64Zip } from './base64-zip.ts';
import { DatasetRejection } from './dataset-rejection.ts';
import { type DatasetLimits, DEFAULT_DATASET_LIMITS } from './limits.ts';
import { normalizeImage } from './normalize-image.ts';
import { readZipMembers, type ZipMember } from './read-zip.ts';
import { pathStem } from './zip-paths.ts';

export interface IngestedImage {
  /** Path inside the ZIP, shown back to the user in finetune_details. */
  file: string;
  png: Buffer;
  width: number;
  height: number;
  /** The paired .txt (trimmed), or null. A user caption always wins over auto-captioning. */
  userCaption: string | null;
}

export interface IngestedDataset {
  images: IngestedImage[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** base64 file_data → validated, decoded, captions paired. Throws DatasetRejection; performs no writes. */
export async function ingestZip(fileData: string, limits: DatasetLimits = DEFAULT_DATASET_LIMITS): Promise<IngestedDataset> {
  return ingestZipBytes(decodeBase64Zip(fileData, limits.maxZipBytes), limits);
}

/** The ZIP's bytes (already base64-decoded) → validated, decoded, captions paired. */
export async function ingestZipBytes(zip: Buffer, limits: DatasetLimits = DEFAULT_DATASET_LIMITS): Promise<IngestedDataset> {
  const members = await readZipMembers(zip, limits);
  const captions = pairCaptions(members);
  const imageMembers = members.filter((m) => m.kind === 'image').sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const images: IngestedImage[] = [];
  // One at a time: 20 full-size decodes at once would spike memory for no real gain on 2 cores.
  for (const m of imageMembers) {
    const normalized = await normalizeImage(m.bytes, m.path, limits);
    images.push({ file: m.path, ...normalized, userCaption: captions.get(pathStem(m.path)) ?? captions.get(pathStem(m.path).toLowerCase()) ?? null });
  }
  return { images };
}

function pairCaptions(members: ZipMember[]): Map<string, string> {
  const byStem = new Map<string, string>();
  for (const m of members) {
    if (m.kind !== 'caption') continue;
    let text: string;
    try {
      text = utf8.decode(m.bytes);
    } catch {
      throw new DatasetRejection('caption is not valid UTF-8 text', m.path);
    }
    text = text.replace(/^\uFEFF/, '').trim();
    if (!text) continue;
    const stem = pathStem(m.path);
    byStem.set(stem, text);
    // Case-insensitive fallback ("IMG_01.JPG" with "img_01.txt"); an exact match still wins.
    if (!byStem.has(stem.toLowerCase())) byStem.set(stem.toLowerCase(), text);
  }
  return byStem;
}
