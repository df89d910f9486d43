// The TypeScript request examples in /docs are real SDK calls: each one is type-checked against the
// SDK here, so a renamed method or a field an endpoint lacks breaks this test, not a reader's copy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { operationId } from '../../src/api/route.ts';
import { API_ROUTES } from '../../src/api/routes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

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
    const file = `${ROOT}test/api/__code_samples__.ts`;
    const source = sampleProgram();
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      types: ['node'],
      lib: ['lib.es2023.d.ts'],
    };
    const host = ts.createCompilerHost(options);
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang) : read(name, lang, ...rest));
    const exists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || exists(name);
    const program = ts.createProgram([file], options, host);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${d.file?.fileName === file ? 'sample' : d.file?.fileName}:${where ? where.line + 1 : '?'} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
    assert.deepEqual(errors, [], source);
  });
});
