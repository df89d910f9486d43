import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../src/client/cli-args.ts';

describe('CLI arguments', () => {
  it('--no-<flag> turns a boolean flag off (serve --no-worker runs no model)', () => {
    assert.equal(parseArgs(['serve', '--no-worker']).flags.get('worker'), false);
    assert.equal(parseArgs(['finetune', 'dir', '--no-captioning']).flags.get('captioning'), false);
  });

  it('values, = forms, underscores and positionals', () => {
    const a = parseArgs(['generate', 'id', '--prompt', 'a cat', '--finetune_strength=1.5', '--wait', 'extra']);
    assert.deepEqual(a.positionals, ['generate', 'id', 'extra']);
    assert.equal(a.flags.get('prompt'), 'a cat');
    assert.equal(a.flags.get('finetune-strength'), '1.5');
    assert.equal(a.flags.get('wait'), true);
  });
});
