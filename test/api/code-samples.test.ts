// The TypeScript request examples in /docs are real SDK calls: each one is type-checked against the
// SDK here, so a renamed method or a field an endpoint lacks breaks this test, not a reader's copy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { operationId } from '../../src/api/route.ts';
import { API_ROUTES } from '../../src/api/routes.ts';
import { typeErrors } from '../support/typecheck.ts';

function sampleProgram(): string {
  const bodies = API_ROUTES.map((route, i) => {
    const code = route.examples!.typescript.replace(/^import .*$/gm, '');
    return `// ${operationId(route)}\nexport async function sample${i}() {\n${code}\n}`;
  });
  return [
    "import { FluxtuneClient } from 'fluxtune';",
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
