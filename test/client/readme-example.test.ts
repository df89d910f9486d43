// The README's SDK example is compiled here against the package's own exports, so it cannot rot.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { typeErrors } from '../support/typecheck.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('the TypeScript SDK example type-checks (typed results: result.sample is a string once Ready)', () => {
    const blocks = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length >= 1, 'the README has a ```ts example');
    for (const [i, code] of blocks.entries()) assert.deepEqual(typeErrors(`${code}\nexport {};\n`, `__readme_${i}__.ts`), [], code);
  });

  it('a wrong use of a typed result does not compile (the check has teeth)', () => {
    const wrong = `import { FluxtuneClient } from 'fluxtune';
const client = new FluxtuneClient();
const r = await client.getResult('id');
const url: string = r.result.sample; // not narrowed: result may be null, and a finetune has no sample
export {};
`;
    assert.ok(typeErrors(wrong, '__readme_wrong__.ts').length > 0);
  });
});
