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
  { name: 'the command line (bin/) uses rekick only through its public face (src/index.ts), and the lab', from: /^bin\//, forbidden: /^(src|commands|store|test|bench)\//, except: /^src\/index\.ts$/ },
  { name: 'commands import no chat adapter', from: /^commands\//, forbidden: /^src\/chat\/(irc|slack|console)/ },
  { name: 'the XML-RPC codec stands alone (the client and the lab\'s hub share it)', from: /^src\/koji\/xmlrpc\//, forbidden: /^(?!src\/koji\/xmlrpc\/)/ },
  { name: 'the Koji client imports no chat, SSH, steps, rolling, HTTP, commands or store code', from: /^src\/koji\//, forbidden: /^(src\/(chat|ssh|steps|rolling|http|drivers)\/|commands\/|store\/)/ },
  { name: 'commands import nothing from the chat (no ChatMessage, no Roles, no rendering): they get it through their context', from: /^commands\//, forbidden: /^src\/chat\// },
  { name: 'commands see the executor and the scheduler only through their API types', from: /^commands\//, forbidden: /^src\/(executor|rolling)\//, except: /^src\/(executor|rolling)\/types\.ts$/ },
  { name: 'the rolling scheduler imports nothing from the commands', from: /^src\/rolling\//, forbidden: /^commands\// },
  { name: "presentation takes the rolling run's shapes from rolling/types.ts only (the scheduler uses presentation)", from: /^src\/present\//, forbidden: /^src\/rolling\//, except: /^src\/rolling\/types\.ts$/ },
  { name: 'presentation imports no chat adapter, no ssh/, no koji/', from: /^src\/present\//, forbidden: /^src\/(chat|ssh|koji)\// },
  { name: 'presentation imports nothing of those that use it (HTTP, the executor, the commands)', from: /^src\/present\//, forbidden: /^(src\/(http|executor)\/|commands\/)/ },
  { name: 'the host resolver reads only the config, the model and errors', from: /^src\/hosts\//, forbidden: /^(src|commands|store)\//, except: /^src\/hosts\/|^src\/config\/schema\.ts$|^src\/(model|errors)\.ts$/ },
  { name: 'the executor is a workflow: it imports no SSH, no Koji and no chat adapter (activities are handed in)', from: /^src\/executor\//, forbidden: /^src\/(ssh|koji)\/|^src\/chat\/(irc|slack|console)/ },
  { name: 'the executor never talks to chat: its events go to the notifier', from: /^src\/executor\//, forbidden: /^src\/chat\// },
  { name: 'the store imports no behaviour (only the job model and its own files)', from: /^store\//, forbidden: /^(src|commands)\//, except: /^src\/(model|errors|log)\.ts$|^src\/util\// },
  { name: 'the chat (the router included) imports no command (the registry is handed in; only the command types)', from: /^src\/chat\//, forbidden: /^commands\//, except: /^commands\/types\.ts$/ },
  { name: "the IRC adapter's files are its own (only the composition creates it)", from: /^(?!src\/chat\/irc\/|src\/main\.ts$)/, forbidden: /^src\/chat\/irc\// },
  { name: "the Slack adapter's files are its own (only the composition creates it)", from: /^(?!src\/chat\/slack\/|src\/main\.ts$)/, forbidden: /^src\/chat\/slack\// },
  {
    name: 'the config knows nothing above it (but the three checks it borrows: keytab principals, path placeholders, rolling windows)',
    from: /^src\/config\//,
    forbidden: /^(src|commands|store)\//,
    except: /^src\/(config\/|errors\.ts$|koji\/kerberos\/index\.ts$|ssh\/placeholders\.ts$|rolling\/window\.ts$)/,
  },
  { name: 'the utilities are plain (only the errors and their own files)', from: /^src\/util\//, forbidden: /^(src|commands|store)\//, except: /^src\/(util\/|errors\.ts$)/ },
  {
    name: 'the SSH layer knows nothing above it (config, model, errors and utilities only)',
    from: /^src\/ssh\//,
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
  const edges = importGraph(ROOT, ['src', 'commands', 'store', 'lab', 'bin']);

  it('presentation reaching into the rolling scheduler beyond its types is caught', () => {
    const files = new Set(['src/rolling/tally.ts', 'src/rolling/types.ts']);
    const found = (text: string) => violations(importsOf('src/present/rolling-lines.ts', text, (p) => files.has(p)).map((to) => ({ from: 'src/present/rolling-lines.ts', to })), RULES);
    expect(found("import { tallyRun } from '../rolling/tally';")).toHaveLength(1);
    expect(found("import type { RollingTally } from '../rolling/types';")).toEqual([]);
  });

  it('the executor reaching into chat, or the config into what runs, is caught (one rule each)', () => {
    const files = new Set(['src/chat/notifier.ts', 'src/executor/executor.ts', 'store/store.ts', 'src/config/schema.ts', 'src/errors.ts']);
    const exists = (p: string) => files.has(p);
    const found = (from: string, text: string) => violations(importsOf(from, text, exists).map((to) => ({ from, to })), RULES);
    expect(found('src/executor/job-runner.ts', "import { createNotifier } from '../chat/notifier';")).toEqual([
      'src/executor/job-runner.ts imports src/chat/notifier.ts: the executor never talks to chat: its events go to the notifier',
    ]);
    expect(found('src/config/load.ts', "import type { Executor } from '../executor/executor';")).toHaveLength(1);
    expect(found('src/config/load.ts', "import type { Store } from '../../store/store';")).toHaveLength(1);
    expect(found('src/config/load.ts', "import { ConfigError } from '../errors';")).toEqual([]);
  });

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
    const executorSsh = importsOf('src/executor/executor.ts', "import { SharedConnections } from '../ssh/shared-connections';", (p) => p === 'src/ssh/shared-connections.ts').map((to) => ({ from: 'src/executor/executor.ts', to }));
    expect(violations(executorSsh, RULES)).toEqual(['src/executor/executor.ts imports src/ssh/shared-connections.ts: the executor is a workflow: it imports no SSH, no Koji and no chat adapter (activities are handed in)']);
    const executorKoji = importsOf('src/executor/job-runner.ts', "import type { KojiClient } from '../koji/types';", (p) => p === 'src/koji/types.ts').map((to) => ({ from: 'src/executor/job-runner.ts', to }));
    expect(violations(executorKoji, RULES)).toHaveLength(1);
    const executorIrc = importsOf('src/executor/executor.ts', "import { createIrcAdapter } from '../chat/irc';", (p) => p === 'src/chat/irc.ts').map((to) => ({ from: 'src/executor/executor.ts', to }));
    expect(violations(executorIrc, RULES)).toHaveLength(2); // no adapter, and no chat at all
    const executorSteps = importsOf('src/executor/executor.ts', "import { createExecutorActivities } from '../steps/activities';", (p) => p === 'src/steps/activities.ts').map((to) => ({ from: 'src/executor/executor.ts', to }));
    expect(violations(executorSteps, RULES)).toEqual([]);
    const labDeep = importsOf('lab/fleet/sim-host.ts', "import { CodedError } from '../../src/errors';", exists).map((to) => ({ from: 'lab/fleet/sim-host.ts', to }));
    expect(violations(labDeep, RULES)).toEqual(['lab/fleet/sim-host.ts imports src/errors.ts: the lab uses rekick only through its public face (src/index.ts)']);
    const chatFiles = new Set(['commands/help.ts', 'commands/types.ts', 'src/chat/irc/addressing.ts', 'src/chat/slack/blocks.ts', 'src/chat/irc/adapter.ts']);
    const chat = (from: string, text: string) => violations(importsOf(from, text, (p) => chatFiles.has(p)).map((to) => ({ from, to })), RULES);
    expect(chat('src/chat/router-turn.ts', "import { findCommand } from '../../commands/help';")).toHaveLength(1);
    expect(chat('src/chat/router-turn.ts', "import type { CommandSpec } from '../../commands/types';")).toEqual([]);
    expect(chat('src/chat/notifier.ts', "import { ircCommandLine } from './irc/addressing';")).toHaveLength(1);
    // not only the router: no file of the chat imports a command beyond its types
    expect(chat('src/chat/notifier.ts', "import { findCommand } from '../../commands/help';")).toHaveLength(1);
    expect(chat('src/chat/approval-prompts.ts', "import type { CommandSpec } from '../../commands/types';")).toEqual([]);
    expect(chat('src/chat/irc/incoming.ts', "import { ircCommandLine } from './addressing';")).toEqual([]);
    expect(chat('src/main.ts', "import { createIrcAdapter } from './chat/irc/adapter';")).toEqual([]);
    // three rules: commands import no adapter, nothing from the chat, and no Slack internals
    expect(chat('commands/status.ts', "import { parentBlocks } from '../src/chat/slack/blocks';")).toHaveLength(3);
    expect(chat('src/chat/slack/app.ts', "import { parentBlocks } from './blocks';")).toEqual([]);
    const labFront = importsOf('lab/fleet/sim-host.ts', "import { CodedError } from '../../src';", exists).map((to) => ({ from: 'lab/fleet/sim-host.ts', to }));
    expect(violations(labFront, RULES)).toEqual([]);
    const binFiles = new Set(['src/index.ts', 'src/cli.ts', 'lab/command.ts']);
    const bin = (text: string) => violations(importsOf('bin/cli.ts', text, (p) => binFiles.has(p)).map((to) => ({ from: 'bin/cli.ts', to })), RULES);
    expect(bin("import { main } from '../src/cli';")).toEqual(['bin/cli.ts imports src/cli.ts: the command line (bin/) uses rekick only through its public face (src/index.ts), and the lab']);
    expect(bin("import { runCliProcess } from '../src';")).toEqual([]);
    expect(bin("import { labSubcommand } from '../lab/command';")).toEqual([]);
  });

  it('the XML-RPC codec importing anything outside its folder is caught', () => {
    const files = new Set(['src/koji/xmlrpc/decode.ts', 'src/koji/xmlrpc/values.ts', 'src/koji/errors.ts']);
    const exists = (p: string) => files.has(p);
    const edgesOf = (text: string) => importsOf('src/koji/xmlrpc/decode.ts', text, exists).map((to) => ({ from: 'src/koji/xmlrpc/decode.ts', to }));
    expect(violations(edgesOf("import { KojiFault } from '../errors';"), RULES)).toHaveLength(1);
    expect(violations(edgesOf("import { isStruct } from './values';"), RULES)).toEqual([]);
  });

  it('the Koji client importing chat or SSH code is caught', () => {
    const files = new Set(['src/koji/client.ts', 'src/chat/render.ts', 'src/ssh/types.ts', 'src/errors.ts']);
    const exists = (p: string) => files.has(p);
    const edgesOf = (text: string) => importsOf('src/koji/client.ts', text, exists).map((to) => ({ from: 'src/koji/client.ts', to }));
    expect(violations(edgesOf("import { render } from '../chat/render';"), RULES)).toHaveLength(1);
    expect(violations(edgesOf("import type { RemoteConnector } from '../ssh/types';"), RULES)).toHaveLength(1);
    expect(violations(edgesOf("import { CodedError } from '../errors';"), RULES)).toEqual([]);
  });

  it('commands, rolling and presentation keep to their rooms (each rule catches its violating import)', () => {
    const files = new Set(['src/executor/executor.ts', 'src/rolling/capacity.ts', 'src/executor/types.ts', 'src/chat/render.ts', 'src/chat/chat-adapter.ts', 'commands/types.ts', 'src/ssh/remote-host.ts', 'src/koji/client.ts', 'src/present/job-lines.ts', 'src/chat/slack.ts', 'src/http/api.ts', 'src/executor/job-ending.ts']);
    const exists = (p: string) => files.has(p);
    const cases: Array<[string, string, string]> = [
      ['commands/status.ts', "import { renderJob } from '../src/chat/render';", 'commands import nothing from the chat'],
      ['commands/types.ts', "import type { ChatMessage } from '../src/chat/chat-adapter';", 'commands import nothing from the chat'],
      ['src/rolling/types.ts', "import type { RollingApi } from '../../commands/types';", 'the rolling scheduler imports nothing from the commands'],
      ['src/present/job-lines.ts', "import { x } from '../ssh/remote-host';", 'presentation imports no chat adapter'],
      ['src/present/job-lines.ts', "import type { KojiClient } from '../koji/client';", 'presentation imports no chat adapter'],
      ['src/present/job-lines.ts', "import { createSlackAdapter } from '../chat/slack';", 'presentation imports no chat adapter'],
      ['src/present/cli-lines.ts', "import type { HostView } from '../http/api';", 'presentation imports nothing of those that use it'],
      ['src/present/job-lines.ts', "import { concludeEndedJob } from '../executor/job-ending';", 'presentation imports nothing of those that use it'],
      ['src/present/job-lines.ts', "import type { CommandSpec } from '../../commands/types';", 'presentation imports nothing of those that use it'],
      ['src/hosts/expand.ts', "import type { ExecutorApi } from '../executor/types';", 'the host resolver reads only the config'],
      ['commands/status.ts', "import type { Executor } from '../src/executor/executor';", 'commands see the executor and the scheduler only through their API types'],
      ['commands/rolling.ts', "import { pickHosts } from '../src/rolling/capacity';", 'commands see the executor and the scheduler only through their API types'],
    ];
    for (const [from, text, rule] of cases) {
      const found = importsOf(from, text, exists).map((to) => ({ from, to }));
      const v = violations(found, RULES);
      expect(v.length, text).toBeGreaterThan(0);
      expect(v.some((line) => line.includes(rule)), text).toBe(true);
    }
    const fine = importsOf('src/present/job-lines.ts', "import { stepTag } from '../present/job-lines';", exists).map((to) => ({ from: 'src/present/job-lines.ts', to }));
    expect(violations(fine, RULES)).toEqual([]);
    const apiTypes = importsOf('commands/types.ts', "import type { ExecutorApi } from '../src/executor/types';", exists).map((to) => ({ from: 'commands/types.ts', to }));
    expect(apiTypes).toHaveLength(1);
    expect(violations(apiTypes, RULES)).toEqual([]);
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
    const configFiles = new Set(['src/config/load.ts', 'src/ssh/placeholders.ts', 'src/ssh/types.ts', 'src/executor/executor.ts', 'src/errors.ts']);
    const inConfig = (text: string) => violations(importsOf('src/config/cross-check.ts', text, (p) => configFiles.has(p)).map((to) => ({ from: 'src/config/cross-check.ts', to })), RULES);
    expect(inConfig("import type { HostKeyMode } from '../ssh/types';")).toHaveLength(1);
    expect(inConfig("import type { Executor } from '../executor/executor';")).toHaveLength(1);
    expect(inConfig("import { substitute } from '../ssh/placeholders';")).toEqual([]);
    expect(inConfig("import { ConfigError } from '../errors';")).toEqual([]);
  });
});
