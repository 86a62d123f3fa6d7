import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Files and directories under a root, with their modes and contents (to compare what two runs left behind). */
export function fileTree(root: string): Record<string, { mode: string; content?: string }> {
  const out: Record<string, { mode: string; content?: string }> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const rel = path.relative(root, p);
      const mode = (statSync(p).mode & 0o7777).toString(8);
      if (e.isDirectory()) {
        out[`${rel}/`] = { mode };
        walk(p);
      } else out[rel] = { mode, content: readFileSync(p, 'utf8') };
    }
  };
  walk(root);
  return out;
}
