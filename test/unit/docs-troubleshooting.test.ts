/** docs/troubleshooting.md explains every error code rekick can report: a new code without a line fails here. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('docs/troubleshooting.md', () => {
  it('has a line for every E_ code in src/, commands/ and store/', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/troubleshooting.md'), 'utf8');
    const codes = new Set<string>();
    for (const file of ['src', 'commands', 'store'].flatMap((d) => sources(path.join(ROOT, d)))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/'(E_[A-Z0-9_]+)'/g)) codes.add(m[1]!);
    }
    expect(codes.size).toBeGreaterThan(40);
    const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``));
    expect(missing, `add these codes to docs/troubleshooting.md`).toEqual([]);
  });
});
