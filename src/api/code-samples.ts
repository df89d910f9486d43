import type { RouteDef } from './route.ts';

export interface CodeSample {
  lang: string;
  label: string;
  source: string;
}

const BASE = 'http://127.0.0.1:8787';

function curl(route: RouteDef): string {
  const ex = route.examples;
  const path = route.path.replace(/:(\w+)/g, '<$1>');
  // Placeholders such as <finetune_id> are left readable: the reader replaces them before running it.
  const query = ex?.query
    ? `?${Object.entries(ex.query)
        .map(([k, v]) => `${k}=${v}`)
        .join('&')}`
    : '';
  const lines = [`curl -X ${route.method} "${BASE}${path}${query}"`];
  if (route.auth === 'x-key') lines.push(`  -H "x-key: $BFL_API_KEY"`);
  if (route.body) {
    lines.push(`  -H "content-type: application/json"`);
    lines.push(`  -d '${JSON.stringify(ex?.body ?? {})}'`);
  }
  return lines.join(' \\\n');
}

/** The request examples of a route: curl, BFL's Python seed client, fluxtune's TypeScript SDK. */
export function codeSamples(route: RouteDef): CodeSample[] {
  const samples: CodeSample[] = [{ lang: 'shell', label: 'curl', source: curl(route) }];
  if (route.examples) {
    samples.push({ lang: 'python', label: 'Python (seed client)', source: route.examples.python });
    samples.push({ lang: 'typescript', label: 'TypeScript (SDK)', source: route.examples.typescript });
  }
  return samples;
}

/** The same samples as Markdown, for renderers that show descriptions but not x-codeSamples. */
export function samplesMarkdown(samples: CodeSample[]): string {
  return samples.map((s) => `**${s.label}**\n\n\`\`\`${s.lang}\n${s.source}\n\`\`\``).join('\n\n');
}
