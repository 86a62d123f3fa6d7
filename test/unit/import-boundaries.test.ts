/**
 * The rooms of the house (docs/architecture.md) and what each may import, checked over the real import graph.
 * A violating import fails this test with the file, the import and the rule it breaks.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph, importsOf, type ImportEdge } from '../support/import-graph';

const ROOT = path.resolve(__dirname, '../..');

interface Rule {
  name: string;
  /** The importing files the rule is about. */
  from: RegExp;
  /** Imports they must not make. */
  forbidden: RegExp;
  /** Imports allowed even though `forbidden` matches them. */
  except?: RegExp;
}

export const RULES: Rule[] = [
  { name: 'production code never imports the lab, the tests or the benchmarks', from: /^(src|commands|store)\//, forbidden: /^(lab|test|bench|bin)\// },
  { name: 'the lab uses rekick only through its public face (src/index.ts)', from: /^lab\//, forbidden: /^(src|commands|store)\//, except: /^src\/index\.ts$/ },
  { name: 'commands import no chat adapter', from: /^commands\//, forbidden: /^src\/chat\/(irc|slack|console)/ },
  { name: 'commands import nothing from the chat (no ChatMessage, no Roles, no rendering): they get it through their context', from: /^commands\//, forbidden: /^src\/chat\// },
  { name: 'the rolling scheduler imports nothing from the commands', from: /^src\/rolling\//, forbidden: /^commands\// },
  { name: 'presentation imports no chat adapter, no ssh/, no koji/', from: /^src\/present\//, forbidden: /^src\/(chat|ssh|koji)\// },
  { name: 'the host resolver reads only the config, the model and errors', from: /^src\/hosts\//, forbidden: /^(src|commands|store)\//, except: /^src\/hosts\/|^src\/config\/schema\.ts$|^src\/(model|errors)\.ts$/ },
  { name: 'the store imports no behaviour (only the job model and its own files)', from: /^store\//, forbidden: /^(src|commands)\//, except: /^src\/(model|errors|log)\.ts$|^src\/util\// },
];

function violations(edges: ImportEdge[], rules: Rule[]): string[] {
  const out: string[] = [];
  for (const e of edges)
    for (const r of rules)
      if (r.from.test(e.from) && r.forbidden.test(e.to) && !r.except?.test(e.to)) out.push(`${e.from} imports ${e.to}: ${r.name}`);
  return out;
}

describe('import boundaries', () => {
  const edges = importGraph(ROOT, ['src', 'commands', 'store', 'lab']);

  it('reads the graph (a sanity floor: the parser found the imports)', () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: 'src/main.ts', to: 'src/executor/executor.ts' });
  });

  it('every room keeps to what it may import', () => {
    expect(violations(edges, RULES)).toEqual([]);
  });

  it('a violating import is caught, whatever its form (static, type, dynamic, re-export)', () => {
    const files = new Set(['src/executor/executor.ts', 'lab/run-lab.ts', 'lab/fleet/sim-host.ts', 'src/index.ts', 'src/errors.ts']);
    const exists = (p: string) => files.has(p);
    const forms = [
      "import { startLab } from '../../lab/run-lab';",
      "import type { SimHost } from '../../lab/fleet/sim-host';",
      "const lab = await import('../../lab/run-lab');",
      "export { x } from '../../lab/run-lab';",
    ];
    for (const text of forms) {
      const found = importsOf('src/executor/executor.ts', text, exists).map((to) => ({ from: 'src/executor/executor.ts', to }));
      expect(violations(found, RULES), text).toHaveLength(1);
    }
    const labDeep = importsOf('lab/fleet/sim-host.ts', "import { CodedError } from '../../src/errors';", exists).map((to) => ({ from: 'lab/fleet/sim-host.ts', to }));
    expect(violations(labDeep, RULES)).toEqual(['lab/fleet/sim-host.ts imports src/errors.ts: the lab uses rekick only through its public face (src/index.ts)']);
    const labFront = importsOf('lab/fleet/sim-host.ts', "import { CodedError } from '../../src';", exists).map((to) => ({ from: 'lab/fleet/sim-host.ts', to }));
    expect(violations(labFront, RULES)).toEqual([]);
  });

  it('commands, rolling and presentation keep to their rooms (each rule catches its violating import)', () => {
    const files = new Set(['src/executor/types.ts', 'src/chat/render.ts', 'src/chat/chat-adapter.ts', 'commands/types.ts', 'src/ssh/remote-host.ts', 'src/koji/client.ts', 'src/present/job-lines.ts', 'src/chat/slack.ts']);
    const exists = (p: string) => files.has(p);
    const cases: Array<[string, string, string]> = [
      ['commands/status.ts', "import { renderJob } from '../src/chat/render';", 'commands import nothing from the chat'],
      ['commands/types.ts', "import type { ChatMessage } from '../src/chat/chat-adapter';", 'commands import nothing from the chat'],
      ['src/rolling/types.ts', "import type { RollingApi } from '../../commands/types';", 'the rolling scheduler imports nothing from the commands'],
      ['src/present/job-lines.ts', "import { x } from '../ssh/remote-host';", 'presentation imports no chat adapter'],
      ['src/present/job-lines.ts', "import type { KojiClient } from '../koji/client';", 'presentation imports no chat adapter'],
      ['src/present/job-lines.ts', "import { createSlackAdapter } from '../chat/slack';", 'presentation imports no chat adapter'],
      ['src/hosts/expand.ts', "import type { ExecutorApi } from '../executor/types';", 'the host resolver reads only the config'],
    ];
    for (const [from, text, rule] of cases) {
      const found = importsOf(from, text, exists).map((to) => ({ from, to }));
      const v = violations(found, RULES);
      expect(v.length, text).toBeGreaterThan(0);
      expect(v.some((line) => line.includes(rule)), text).toBe(true);
    }
    const fine = importsOf('src/present/job-lines.ts', "import { stepTag } from '../present/job-lines';", exists).map((to) => ({ from: 'src/present/job-lines.ts', to }));
    expect(violations(fine, RULES)).toEqual([]);
  });
});
