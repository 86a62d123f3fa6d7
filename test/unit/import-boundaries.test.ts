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
  { name: 'the store imports no behaviour (only the job model and its own files)', from: /^store\//, forbidden: /^(src|commands)\//, except: /^src\/(model|errors|log)\.ts$|^src\/util\// },
  { name: 'the utilities are plain (only the errors and their own files)', from: /^src\/util\//, forbidden: /^(src|commands|store)\//, except: /^src\/(util\/|errors\.ts$)/ },
  {
    name: 'the SSH layer knows nothing above it (config, model, errors and utilities only)',
    from: /^src\/ssh\/(?!job-connections|shared-connections)/,
    forbidden: /^(src|commands|store)\//,
    except: /^src\/(ssh\/|util\/|config\/schema\.ts$|model\.ts$|errors\.ts$)/,
  },
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

  it('the utilities and the SSH layer keep to their rooms: a violating import is caught', () => {
    const files = new Set(['src/ssh/ssh-connector.ts', 'src/executor/executor.ts', 'src/util/sleep.ts', 'src/model.ts', 'src/errors.ts', 'store/store.ts']);
    const exists = (p: string) => files.has(p);
    const found = (from: string, text: string) => violations(importsOf(from, text, exists).map((to) => ({ from, to })), RULES);
    expect(found('src/ssh/ssh-connector.ts', "import type { Executor } from '../executor/executor';")).toEqual([
      'src/ssh/ssh-connector.ts imports src/executor/executor.ts: the SSH layer knows nothing above it (config, model, errors and utilities only)',
    ]);
    expect(found('src/ssh/ssh-connector.ts', "import type { Store } from '../../store/store';")).toHaveLength(1);
    expect(found('src/ssh/ssh-connector.ts', "import { abortReason } from '../errors';")).toEqual([]);
    expect(found('src/util/sleep.ts', "import type { Job } from '../model';")).toEqual([
      'src/util/sleep.ts imports src/model.ts: the utilities are plain (only the errors and their own files)',
    ]);
    expect(found('src/util/sleep.ts', "import { abortReason } from '../errors';")).toEqual([]);
  });
});
