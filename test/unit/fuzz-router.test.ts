/**
 * Hostile input, fuzzed: 10,000 seeded random and adversarial chat lines through IRC's front door (or Slack's slash
 * command) and the real router and commands
 * (FakeExecutor holds jobs that a wrongly accepted !approve, !deny, !cancel or !retry would act on). For every
 * line: handle() never rejects; a line that does not validly say something never reaches the executor; every
 * command-looking line that is refused gets exactly one one-line refusal, audited as refused; and the few valid
 * lines mixed in (with IRC formatting around words, shell metacharacters inside a quoted reason) ask the executor
 * for exactly what they say, no more. The seed is printed on failure; REKICK_FUZZ_SEED=N reruns one.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { stripIrcFormatting } from '../../src/chat/formatting';
import { ircCommandLine } from '../../src/chat/irc/addressing';
import { createRoles } from '../../src/chat/roles';
import { createRouter, type Router } from '../../src/chat/router';
import type { AuditEntry, Identity } from '../../src/model';
import { FakeExecutor, anonymous, kevin, nirik } from '../fakes/fake-executor';
import { prng } from '../support/prng';

const SEED = Number(process.env.REKICK_FUZZ_SEED ?? 0x5eed_2024);
const LINES = 10_000;

type Expected =
  | { kind: 'refused' }
  | { kind: 'ignored' }
  | { kind: 'call'; method: 'reinstall' | 'approve' | 'deny' | 'cancel' | 'retry'; hosts: string[] | 'all'; reason?: string };

interface Case {
  line: string;
  user: Identity;
  expected: Expected;
  slash?: boolean;
  why: string;
}

const HOSTS = ['buildarm-01', 'buildarm-02', 'buildarm-03', 'buildvm-01', 'vmhost-01'];
const MUTATING = ['reinstall', 'approve', 'deny', 'cancel', 'retry'] as const;
const READ_ONLY = ['status', 'queue', 'hosts', 'help', 'whoami'];

/** Letters that look like ASCII ones (Cyrillic, Greek, fullwidth, mathematical, Kelvin/roman numerals). */
const LOOKALIKES: Record<string, string[]> = {
  a: ['\u0430', '\u03b1', '\uff41', '\u{1d5ba}'],
  b: ['\u0184', '\uff42', '\u13cf'],
  c: ['\u0441', '\u03f2', '\uff43'],
  d: ['\u0501', '\uff44', '\u217e'],
  e: ['\u0435', '\u0117', '\uff45'],
  i: ['\u0456', '\u0131', '\u03b9', '\uff49', '\u2170'],
  l: ['\u04cf', '\u217c', '\u0399', '\uff4c', '1', 'I'],
  m: ['\u217f', '\uff4d'],
  o: ['\u043e', '\u03bf', '\uff4f', '0'],
  r: ['\u0433', '\uff52'],
  s: ['\u0455', '\uff53', '\u017f'],
  t: ['\uff54'],
  u: ['\u057d', '\u03c5', '\uff55'],
  v: ['\u03bd', '\u0475', '\uff56'],
  h: ['\u04bb', '\uff48'],
  '0': ['O', '\u041e', '\uff10', '\u{1d7ce}'],
  '1': ['l', 'I', '\uff11', '\u0661'],
  '2': ['\uff12', '\u01a7'],
  '3': ['\uff13', '\u0417', '\u04e0'],
  '-': ['\u2010', '\u2011', '\u2212', '\uff0d', '\u2013', '_'],
};
const SHELL = [';', '$(reboot)', '`id`', '|sh', '&&rm -rf /', '>/etc/passwd', '$IFS', '${PATH}', '\\', '*', '?', '#', '&', '<(id)', "'", '"'];
const CONTROL = [
  '\x00', '\x01', '\x07', '\x08', '\n', '\r', '\x0b', '\x0c', '\x1b[31m', '\x7f', '\x85', '\x9b',
  '\u200b', '\u200c', '\u200d', '\u200e', '\u202e', '\u2066', '\ufeff',
];
/** IRC formatting that ends before a non-digit: bold, italic, underline, reset, reverse, strike, mono, colours. */
const FORMATTING = ['\x02', '\x1d', '\x1f', '\x0f', '\x16', '\x1e', '\x11', '\x0304', '\x0312,01', '\x03', '\x04ff0000'];

function makeGenerator(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const host = () => pick(HOSTS);

  /** A host name with one character swapped for a look-alike: never a configured name. */
  const lookalike = (name: string): string => {
    const chars = [...name];
    const positions = chars.map((c, i) => (LOOKALIKES[c] ? i : -1)).filter((i) => i >= 0);
    const at = pick(positions);
    chars[at] = pick(LOOKALIKES[chars[at]!]!);
    const out = chars.join('');
    return HOSTS.includes(out) ? `${out}x` : out;
  };

  /** Decorates each word with IRC formatting that clients render away (placed so no colour digit is eaten). */
  const decorate = (words: string[]): string =>
    words
      .map((w) => {
        const f = rand() < 0.5 ? pick(FORMATTING) : '';
        // A colour code before a word that starts with a digit would take that digit as its colour.
        const safe = /^\d/.test(w) && /^\x03|^\x04/.test(f) ? '\x02' : f;
        return `${safe}${w}${rand() < 0.3 ? '\x0f' : ''}`;
      })
      .join(' ');

  const pools = [
    [...'abcdefghijklmnopqrstuvwxyz0123456789-.:'],
    [...' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'],
    [...'\u0430\u0435\u043e\u0456\u03b1\u03bf\u00e9\u00df\u2013\u2014\u00a0\u3000\u4e2d\u{1f600}\u{1f4a5}'],
  ];
  const randomText = (n: number): string => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(pick(pick(pools)));
    return out.join('');
  };

  return function next(i: number): Case {
    const r = rand();
    const user = rand() < 0.85 ? nirik : kevin;
    if (r < 0.14) {
      // Look-alike host names (and group names) in every mutating command.
      const cmd = pick(MUTATING);
      const target = rand() < 0.2 && (cmd === 'reinstall' || cmd === 'approve') ? `group:${lookalike('arm')}` : lookalike(host());
      const more = cmd === 'reinstall' || cmd === 'approve' ? (rand() < 0.5 ? ` ${host()}` : '') : '';
      return { line: `!${cmd} ${target}${more}`, user, expected: { kind: 'refused' }, why: 'look-alike host' };
    }
    if (r < 0.26) {
      // Shell metacharacters glued to, or standing in for, a host name.
      const cmd = pick(MUTATING);
      const h = host();
      const meta = pick(SHELL);
      const word = pick([`${h}${meta}`, `${meta}${h}`, meta, `${h}${meta}id`]);
      if (word.includes('"') || word.includes("'")) {
        // A lone quote is an unterminated-quote refusal; quote it whole so the word arrives as typed instead.
        const q = word.includes('"') ? `'${word.replace(/'/g, '')}'` : `"${word.replace(/"/g, '')}"`;
        return { line: `!${cmd} ${q}`, user, expected: { kind: 'refused' }, why: 'quoted shell word as host' };
      }
      return { line: `!${cmd} ${word}`, user, expected: { kind: 'refused' }, why: 'shell metacharacter in host' };
    }
    if (r < 0.38) {
      // Control and invisible characters anywhere in a command line.
      const cmd = pick([...MUTATING, ...READ_ONLY]);
      const base = `!${cmd} ${host()}`;
      const at = 1 + int(base.length);
      const line = `${base.slice(0, at)}${pick(CONTROL)}${base.slice(at)}`;
      return { line, user, expected: { kind: 'refused' }, why: 'control character' };
    }
    if (r < 0.44) {
      // Huge lines: a valid command padded past the limit, or megabytes of junk.
      const cmd = pick(MUTATING);
      const line = rand() < 0.7 ? `!${cmd} ${host()} ${' '.repeat(520 + int(2000))}x` : `!${cmd} ${rand() < 0.05 ? 'x'.repeat(1_000_000) : randomText(600 + int(5_000))}`;
      return { line, user, expected: { kind: 'refused' }, why: 'huge line' };
    }
    if (r < 0.52) {
      // Bad arguments: unknown or repeated flags, a flag without its value, unbalanced quotes, extra words.
      const h = host();
      const line = pick([
        `!reinstall ${h} --override`,
        `!reinstall ${h} --reason`,
        `!reinstall ${h} --force-drain=yes`,
        `!reinstall ${h} --reason a --reason b`,
        `!reinstall ${h} --reason "unterminated $(id)`,
        `!reinstall ${h} --\u2014reason x`,
        `!reinstall --reason "${'r'.repeat(201)}" ${h}`,
        `!approve all ${h}`,
        `!approve ${h} --force`,
        `!approve \u0430ll`,
        `!approve a\u04cfl`,
        `!deny ${h} ${'why '.repeat(60)}`,
        `!cancel ${h} ${host()}`,
        `!cancel`,
        `!retry ${h} --now`,
        `!cancel group:arm`,
        `!deny group:arm flaky`,
        `!reinstall`,
        `!approve`,
        `!reinstall ${h.toUpperCase()}`,
        `!reinstall ${h}.`,
        `!reinstall ${h}.example.org`,
      ]);
      return { line, user, expected: { kind: 'refused' }, why: 'bad arguments' };
    }
    if (r < 0.58) {
      // A spoofed nick: the approver's name, no services account.
      const spoof: Identity = { source: 'irc', display: pick(['nirik', 'kevin', 'NIRIK', 'nirik_']) };
      const cmd = pick(MUTATING);
      const arg = cmd === 'approve' && rand() < 0.5 ? 'all' : host();
      return { line: `!${cmd} ${arg}`, user: spoof, expected: { kind: 'refused' }, why: 'no services account' };
    }
    if (r < 0.63) {
      // Unknown commands: look-alike command names, random words.
      const cmd = pick(MUTATING);
      const name = rand() < 0.6 ? lookalikeWord(cmd) : `${pick(['x', 'rm', 'sudo', 'eval', 'kill', 'reboot', 'REINSTALL_'])}${int(100)}`;
      return { line: `!${name} ${host()}`, user, expected: { kind: 'refused' }, why: 'unknown command' };
    }
    if (r < 0.75) {
      // Random junk after a `!` and a letter: never a valid mutating command.
      const line = `!${pick([...'abcdefghijklmnopqrstuvwxyz'])}${randomText(1 + int(80))}`;
      return { line, user, expected: { kind: 'refused' }, why: 'random junk' };
    }
    if (r < 0.85) {
      // Lines not meant for rekick, however odd: ignored, no reply, no audit.
      const noBang = (t: string) => (t.trim().startsWith('!') ? `x ${t}` : t);
      const line = pick([
        noBang(randomText(int(120))),
        noBang(`${randomText(5)} !reinstall ${host()}`),
        `reinstall ${host()}`,
        `rekick reinstall ${host()}`,
        '!',
        '!!!',
        `! ${host()}`,
        `!1 ${host()}`,
        `!$(reboot)`,
        '\x00\x01\x02',
        'x'.repeat(100_000),
      ]);
      const expected: Expected = commandLooking(line) ? { kind: 'refused' } : { kind: 'ignored' };
      return { line, user, expected, why: 'chatter' };
    }
    // Valid lines, disguised: formatting around words, case, addressing, shell metacharacters inside the reason,
    // and the Slack slash command form. They must do exactly what they say.
    return validCase(i);
  };

  function lookalikeWord(word: string): string {
    const chars = [...word];
    const positions = chars.map((c, i) => (LOOKALIKES[c] && /[a-z]/.test(c) ? i : -1)).filter((i) => i >= 0);
    const at = pick(positions);
    chars[at] = pick(LOOKALIKES[chars[at]!]!.filter((c) => !/^[A-Za-z0-9]$/.test(c)));
    return chars.join('');
  }

  function validCase(_i: number): Case {
    const kind = pick(['reinstall', 'approve', 'approve-all', 'deny', 'cancel', 'retry'] as const);
    const reason = pick(['$(touch /tmp/rekick-pwned)', '`reboot`; rm -rf /', 'kernel; update && reboot', "it's | sh", 'plain words']);
    let words: string[];
    let expected: Expected;
    switch (kind) {
      case 'reinstall': {
        const hs = rand() < 0.3 ? ['buildarm-03', 'vmhost-01'] : ['buildarm-03'];
        words = ['reinstall', ...hs, '--reason', `"${reason.replace(/"/g, '')}"`];
        expected = { kind: 'call', method: 'reinstall', hosts: hs, reason: reason.replace(/"/g, '') };
        break;
      }
      case 'approve':
        words = ['approve', 'buildarm-01', 'buildarm-02'];
        expected = { kind: 'call', method: 'approve', hosts: ['buildarm-01', 'buildarm-02'] };
        break;
      case 'approve-all':
        words = ['approve', 'all'];
        expected = { kind: 'call', method: 'approve', hosts: 'all' };
        break;
      case 'deny':
        words = ['deny', 'buildarm-02', reason];
        expected = { kind: 'call', method: 'deny', hosts: ['buildarm-02'], reason: reason.split(/\s+/).join(' ') };
        break;
      case 'cancel':
        words = ['cancel', 'buildvm-01'];
        expected = { kind: 'call', method: 'cancel', hosts: ['buildvm-01'] };
        break;
      case 'retry':
        words = ['retry', 'buildarm-03'];
        expected = { kind: 'call', method: 'retry', hosts: ['buildarm-03'] };
        break;
    }
    // deny's reason is free text and the router tokenizes it: quotes would be dropped, so keep them out.
    if (kind === 'deny') words = words.map((w) => w.replace(/['"]/g, ''));
    if (expected.kind === 'call' && expected.method === 'deny') expected.reason = expected.reason!.replace(/['"]/g, '');
    const form = int(4);
    if (form === 0) return { line: `!${decorate(words)}`, user: nirik, expected, why: `valid ${kind}, formatted` };
    if (form === 1) return { line: `  !${words[0]!.toUpperCase()} ${words.slice(1).join(' ')}  `, user: nirik, expected, why: `valid ${kind}, upper case` };
    if (form === 2) return { line: `rekick: ${words.join(' ')}`, user: nirik, expected, why: `valid ${kind}, addressed` };
    return { line: words.join(' '), user: { source: 'irc', id: 'nirik', display: 'nirik' }, expected, slash: true, why: `valid ${kind}, slash command` };
  }
}

/** Whether a line is meant for rekick as a command (starts with `!` and a letter once formatting is gone). */
function commandLooking(line: string): boolean {
  return /^!\s*[\p{L}\p{Nl}]/u.test(line.trim());
}

interface Rig {
  executor: FakeExecutor;
  router: Router;
  audit: AuditEntry[];
}

async function createRig(): Promise<Rig> {
  const executor = await FakeExecutor.create();
  await executor.seed('buildarm-01', 'awaiting-approval');
  await executor.seed('buildarm-02', 'awaiting-approval');
  await executor.seed('buildarm-03', 'failed', { current: 4 });
  await executor.seed('buildvm-01', 'running', { current: 2 });
  const audit: AuditEntry[] = [];
  const router = createRouter({
    executor,
    commands: commandRegistry,
    roles: createRoles(executor.config.roles),
    log: pino({ level: 'silent' }),
    audit: (e) => {
      audit.push(e);
    },
  });
  return { executor, router, audit };
}

/** Deep equality for plain data (the calls' arguments). */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

describe(`fuzzing the chat router with ${LINES} lines (seed ${SEED})`, () => {
  it('no crash, no action the line did not validly say, one one-line refusal per refused command line', async () => {
    const next = makeGenerator(prng(SEED));
    let rig = await createRig();
    const tally = { refused: 0, ignored: 0, call: 0 };
    const byWhy = new Map<string, number>();
    // Checked by hand per line (expect() per line would be most of the run time); every failure is kept.
    const failures: string[] = [];
    for (let i = 0; i < LINES && failures.length < 10; i++) {
      const c = next(i);
      byWhy.set(c.why, (byWhy.get(c.why) ?? 0) + 1);
      const where = `line ${i} (seed ${SEED}, ${c.why}): ${JSON.stringify(c.line.slice(0, 160))}`;
      const fail = (what: string) => failures.push(`${where}: ${what}`);
      const replies: Array<{ text: string; refusal: boolean }> = [];
      const callsBefore = rig.executor.calls.length;
      const auditBefore = rig.audit.length;
      const jobsBefore = JSON.stringify(rig.executor.store.listJobs());
      const waitingBefore = rig.executor.queue();
      try {
        // The adapter's front door decides whether the line is for rekick (IRC's addressing, or Slack's slash
        // command); the router gets the line as typed, IRC formatting dropped, so that its own checks are fuzzed.
        const addressed = c.slash ? c.line : ircCommandLine(c.line, ['rekick'], false);
        // A `!` line goes on untrimmed, so that the router's own checks see its every character.
        const text = addressed !== undefined && !c.slash && c.line.trimStart().startsWith('!') ? stripIrcFormatting(c.line) : addressed;
        if (text !== undefined) await rig.router.handle(
          { origin: { adapter: c.slash ? 'slack' : 'irc', room: '#builders' }, user: c.user, text, isSlashCommand: c.slash },
          async (text, opts) => {
            replies.push({ text, refusal: Boolean(opts?.refusal) });
          },
        );
      } catch (err) {
        fail(`handle rejected: ${String(err)}`);
        continue;
      }
      const calls = rig.executor.calls.slice(callsBefore);
      tally[c.expected.kind]++;
      if (c.expected.kind === 'call') {
        const exp = c.expected;
        const call = calls[0];
        if (calls.length !== 1 || !call) fail(`expected one ${exp.method} call, got ${JSON.stringify(calls.map((x) => x.method))}; replies ${JSON.stringify(replies)}`);
        else if (call.method !== exp.method) fail(`expected ${exp.method}, got ${call.method}`);
        else if (call.method === 'reinstall') {
          const req = call.args[0] as { hosts: string[]; reason?: string; by: Identity };
          if (!same(req.hosts, exp.hosts) || req.reason !== exp.reason || !same(req.by, c.user)) fail(`reinstall asked ${JSON.stringify(req)}`);
        } else if (call.method === 'approve') {
          // `!approve all` asks for exactly the jobs waiting (and announced: every one here), each by its id.
          const waiting = Object.fromEntries(waitingBefore.map((j) => [j.host, j.id]));
          const asked = call.args[0] as string[] | 'all';
          const all = exp.hosts === 'all' && Array.isArray(asked) && same([...asked].sort(), Object.keys(waiting).sort()) && same(Object.entries((call.args[1] as { jobIds?: Record<string, string> }).jobIds ?? {}).sort(), Object.entries(waiting).sort());
          if ((!all && !same(asked, exp.hosts)) || (call.args[1] as { override?: boolean }).override) fail(`approve asked ${JSON.stringify(call.args)}`);
        } else {
          if (!same([call.args[0]], exp.hosts)) fail(`${call.method} asked for ${JSON.stringify(call.args[0])}`);
          if (call.method === 'deny' && (call.args[1] as { reason?: string }).reason !== exp.reason) fail(`deny reason ${JSON.stringify(call.args[1])}`);
        }
        if (replies.some((r) => r.refusal)) fail(`refused: ${JSON.stringify(replies)}`);
        if (rig.audit.at(-1)?.outcome !== 'ok' || !same(rig.audit.at(-1)?.who, c.user)) fail(`audit ${JSON.stringify(rig.audit.at(-1))}`);
        rig = await createRig(); // the valid line changed the jobs; the next line starts from the same state
        continue;
      }
      if (calls.length) fail(`the executor was asked: ${JSON.stringify(calls)}`);
      if (JSON.stringify(rig.executor.store.listJobs()) !== jobsBefore) fail('the jobs changed');
      if (c.expected.kind === 'ignored') {
        if (replies.length) fail(`expected silence, got ${JSON.stringify(replies)}`);
        if (rig.audit.length !== auditBefore) fail('audited a line not meant for rekick');
        continue;
      }
      const [reply] = replies;
      if (replies.length !== 1 || !reply) fail(`expected one refusal, got ${JSON.stringify(replies)}`);
      else if (!reply.refusal || /[\r\n]/.test(reply.text) || reply.text.length >= 1000 || /internal error/.test(reply.text)) {
        fail(`not a one-line refusal: ${JSON.stringify(reply)}`);
      }
      const entry = rig.audit.at(-1);
      if (rig.audit.length !== auditBefore + 1 || entry?.outcome !== 'refused' || !same(entry.who, c.user)) fail(`audit ${JSON.stringify(entry)}`);
    }
    expect(failures).toEqual([]);
    // Every class of line was exercised, and most lines were refusals.
    expect([...byWhy.keys()].sort()).toEqual(
      expect.arrayContaining(['look-alike host', 'shell metacharacter in host', 'control character', 'huge line', 'bad arguments', 'no services account', 'unknown command', 'random junk', 'chatter']),
    );
    expect(tally.refused + tally.ignored + tally.call).toBe(LINES);
    expect(tally.refused).toBeGreaterThan(LINES * 0.7);
    expect(tally.call).toBeGreaterThan(LINES * 0.1);
    expect(tally.ignored).toBeGreaterThan(100);
  });
});

describe('command names typed with look-alike letters', () => {
  it.each([
    ['!\uff44eny buildarm-02 flaky', /unknown command !\uff44eny — did you mean !deny\?/],
    ['!\u0433einstall buildarm-03', /unknown command !\u0433einstall/],
    ['!\u217eeny buildarm-02', /unknown command !\u217eeny/],
    ['!\u{1d5ba}pprove all', /unknown command !\u{1d5ba}pprove/u],
  ])('%j is refused in one line, not ignored', async (line, pattern) => {
    const rig = await createRig();
    const replies: Array<{ text: string; refusal?: boolean }> = [];
    await rig.router.handle({ origin: { adapter: 'irc', room: '#builders' }, user: nirik, text: line }, async (text, opts) => {
      replies.push({ text, refusal: opts?.refusal });
    });
    expect(replies).toEqual([{ text: expect.stringMatching(pattern), refusal: true }]);
    expect(rig.executor.calls).toEqual([]);
    expect(rig.audit).toEqual([expect.objectContaining({ who: nirik, outcome: 'refused' })]);
  });
});
