// Type-checks a TypeScript source held in memory, as a file at the repo root's test/ folder would be
// (so `import … from 'fluxtune'` resolves to the package's own exports): the diagnostics, one line each.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function typeErrors(source: string, name = '__in_memory__.ts'): string[] {
  const file = `${ROOT}test/${name}`;
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
  host.getSourceFile = (fileName, lang, ...rest) => (fileName === file ? ts.createSourceFile(fileName, source, lang) : read(fileName, lang, ...rest));
  const exists = host.fileExists.bind(host);
  host.fileExists = (fileName) => fileName === file || exists(fileName);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    return `${d.file?.fileName === file ? name : d.file?.fileName}:${where ? where.line + 1 : '?'} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
