/** No request of this API nests more than a few levels; a body of 100k nested arrays is an attack on the stack. */
export const MAX_JSON_DEPTH = 32;

/** Iterative, so measuring the depth cannot itself overflow the stack. */
export function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
