// The TypeScript request examples in /docs are real SDK calls: each one is type-checked against the
// SDK here, so a renamed method or a field an endpoint lacks breaks this test, not a reader's copy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { operationId } from '../../src/api/route.ts';
import { API_ROUTES } from '../../src/api/routes.ts';
import { typeErrors } from '../support/typecheck.ts';

const IMPORT = /^import .*$/gm;

/** Each example is the body of a function; its imports (the SDK's, node:fs') go to the top of the program, once each. */
function sampleProgram(): string {
  const imports = new Set(["import { FluxtuneClient } from 'fluxtune';"]);
  const bodies = API_ROUTES.map((route, i) => {
    const source = route.examples!.typescript;
    for (const m of source.matchAll(IMPORT)) imports.add(m[0]);
    return `// ${operationId(route)}\nexport async function sample${i}() {\n${source.replace(IMPORT, '')}\n}`;
  });
  return [
    ...imports,
    'declare const client: FluxtuneClient;',
    'declare const finetuneId: string;',
    'declare const id: string;',
    'void FluxtuneClient;',
    ...bodies,
  ].join('\n');
}

describe('code samples', () => {
  it('every TypeScript example type-checks against the SDK (imported as the package, `fluxtune`)', () => {
    const source = sampleProgram();
    assert.deepEqual(typeErrors(source, '__code_samples__.ts'), [], source);
  });
});
