// The tokenizers on files made here (tiny-flux-folder.ts): FLUX's HFEmbedder padding and
// truncation (max_length; specials kept, the text cut from the right, pad_token after), CLIP's
// CLIPConverter pipeline (lower-casing, whitespace, word-final </w> merges) read from vocab.json +
// merges.txt or from a tokenizer.json, T5's Unigram with </s>, and what is refused.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadClipTokenizer } from '../../../src/model/text-encoders/clip-tokenizer.ts';
import { clipTokenizerJson } from '../../../src/model/text-encoders/clip-tokenizer-json.ts';
import { loadT5Tokenizer } from '../../../src/model/text-encoders/t5-tokenizer.ts';
import { clipTokenizerFiles, t5Piece, writeTinyFluxFolder } from './tiny-flux-folder.ts';

const root = writeTinyFluxFolder();
const scratch = mkdtempSync(join(tmpdir(), 'fluxtune-tokenizers-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});
const BOS = 97;
const EOS = 98;

describe('CLIP tokenizer (FLUX.1 tokenizer/: vocab.json + merges.txt)', () => {
  const tok = loadClipTokenizer(join(root, 'tokenizer'));
  const { vocab } = clipTokenizerFiles();
  const id = (word: string) => vocab[`${word}</w>`]!;

  it('adds <|startoftext|> … <|endoftext|> and pads to 77 with pad_token (<|endoftext|>)', () => {
    const ids = tok.encode('ah bi');
    assert.equal(ids.length, 77);
    assert.deepEqual(ids.slice(0, 4), [BOS, id('ah'), id('bi'), EOS]);
    assert.ok(ids.slice(4).every((i) => i === EOS));
    assert.equal(tok.padId, EOS);
  });

  it('normalises as CLIPConverter: lower case, runs of whitespace, no BPE across words', () => {
    assert.deepEqual(tok.encode('  AH \n\t bI ').slice(0, 4), [BOS, id('ah'), id('bi'), EOS]);
    // "ahah" is one word: only its last pair is word-final ("a h</w>" merges there); a non-final
    // "h" is not in this vocabulary, so it is the unknown token, <|endoftext|>.
    assert.deepEqual(tok.encode('ahah').slice(0, 5), [BOS, vocab.a!, EOS, id('ah'), EOS]);
  });

  it('truncates as transformers does with max_length 77: bos, the first 75 tokens, eos', () => {
    const words = Array.from({ length: 100 }, (_, k) => (k % 2 ? 'bi' : 'ah'));
    const ids = tok.encode(words.join(' '));
    assert.equal(ids.length, 77);
    assert.equal(ids[0], BOS);
    assert.equal(ids[76], EOS);
    assert.deepEqual(ids.slice(1, 4), [id('ah'), id('bi'), id('ah')]);
    assert.equal(tok.tokenCount(words.join(' ')), 100);
  });

  it('reads a tokenizer.json in the folder instead, with the same ids', () => {
    const dir = join(scratch, 'clip-json');
    const { merges } = clipTokenizerFiles();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(clipTokenizerJson(vocab, merges)));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '<|endoftext|>' }));
    assert.deepEqual(loadClipTokenizer(dir).encode('AH bi, ah!'), tok.encode('AH bi, ah!'));
  });

  it('refuses a folder without tokenizer files, and a pad token it does not have', () => {
    assert.throws(() => loadClipTokenizer(scratch), /no CLIP tokenizer \(tokenizer\.json, or vocab\.json and merges\.txt\)/);
    const dir = join(scratch, 'clip-bad-pad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(clipTokenizerJson(vocab, [])));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '<|pad|>' }));
    assert.throws(() => loadClipTokenizer(dir), /pad token '<\|pad\|>' is not in its vocabulary/);
  });
});

describe('T5 tokenizer (FLUX.1 tokenizer_2/: Unigram tokenizer.json)', () => {
  const ids = (...n: number[]) => n;
  it('ends with </s> (1) and pads with <pad> (0) to max_length: 512 by default, 256 for schnell', () => {
    const dev = loadT5Tokenizer(join(root, 'tokenizer_2'));
    const schnell = loadT5Tokenizer(join(root, 'tokenizer_2'), 256);
    const text = `${t5Piece(9).slice(1)} ${t5Piece(42).slice(1)}`;
    for (const [tok, n] of [
      [dev, 512],
      [schnell, 256],
    ] as const) {
      const row = tok.encode(text);
      assert.equal(row.length, n);
      assert.deepEqual(row.slice(0, 4), ids(9, 42, 1, 0));
      assert.ok(row.slice(3).every((i) => i === 0));
    }
  });

  it('truncates to max_length − 1 pieces then </s>, and maps an unknown word to <unk> (2)', () => {
    const tok = loadT5Tokenizer(join(root, 'tokenizer_2'), 5);
    const words = [10, 11, 12, 13, 14, 15].map((i) => t5Piece(i).slice(1)).join(' ');
    assert.deepEqual(tok.encode(words), ids(10, 11, 12, 13, 1));
    assert.deepEqual(tok.encode('zz'), ids(2, 1, 0, 0, 0));
  });

  it('refuses a folder with only spiece.model, saying how to get tokenizer.json', () => {
    const dir = join(scratch, 't5-spiece');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'spiece.model'), new Uint8Array(4));
    assert.throws(() => loadT5Tokenizer(dir), /spiece\.model only: save the fast tokenizer/);
  });
});
