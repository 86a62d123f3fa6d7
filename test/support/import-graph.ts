/**
 * The repository's import graph, read from the sources: every relative import (static, dynamic, side-effect and
 * `export ... from`) of every .ts file under the given folders, resolved to a repository path.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ImportEdge {
  from: string;
  to: string;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*|\.{1,2})\1/g;

export function listSources(root: string, folders: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(path.join(root, dir))) {
      const rel = path.join(dir, name);
      if (statSync(path.join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel);
    }
  };
  for (const f of folders) if (existsSync(path.join(root, f))) walk(f);
  return out.sort();
}

/** The relative imports in one file's text, resolved against its path (`exists` says which paths are files). */
export function importsOf(file: string, text: string, exists: (p: string) => boolean): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const base = path.normalize(path.join(path.dirname(file), m[2]));
    const hit = [base, `${base}.ts`, path.join(base, 'index.ts')].find(exists);
    out.push(hit ?? base);
  }
  return out;
}

export function importGraph(root: string, folders: string[]): ImportEdge[] {
  const exists = (p: string) => existsSync(path.join(root, p)) && statSync(path.join(root, p)).isFile();
  return listSources(root, folders).flatMap((from) =>
    importsOf(from, readFileSync(path.join(root, from), 'utf8'), exists).map((to) => ({ from, to })),
  );
}
