/** The command line: check-config, reinstall --dry-run, the read-only views, and --help on each subcommand. */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LowdbStore } from '../../store/lowdb-store';
import { STEP_NAMES, type Job } from '../../src/model';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'rekick-cli-'));
const env = { ...process.env, REKICK_IRC_PASSWORD: 'pw', SLACK_SIGNING_SECRET: 'sig', SLACK_BOT_TOKEN: 'xoxb-1', REKICK_LOG_LEVEL: 'error' };
let configPath: string;

function rekick(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'bin/cli.ts'), ...args], { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  configPath = path.join(dir, 'rekick.yaml');
  copyFileSync(path.join(ROOT, 'rekick.example.yaml'), configPath);
  mkdirSync(path.join(dir, 'pki/builders'), { recursive: true });
  mkdirSync(path.join(dir, 'templates'), { recursive: true });
  for (const f of ['pki/rekick-admin.pem', 'pki/koji-ca.pem', 'pki/id_ed25519', 'templates/kojid.conf', 'pki/builders/buildarm-01.pem', 'pki/builders/buildvm-x86-01.pem']) {
    writeFileSync(path.join(dir, f), 'x');
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rekick CLI', () => {
  it('check-config accepts the contract example and names every problem of a broken file', async () => {
    const ok = await rekick('check-config', configPath);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/OK — 3 hosts/);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'koji: { server: nope }\nssh: { key: /nonexistent }\nhosts: []\n');
    const r = await rekick('check-config', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/koji\.server/);
    expect(r.stderr).toMatch(/ssh\.knownHosts/);
    expect(r.stderr).toMatch(/installer/);
    expect(r.stderr).toMatch(/hosts: expected at least one host/);
  });

  it('check-config prints field-level and cross-field problems in one run, without a secret value', async () => {
    const bad = path.join(dir, 'mixed.yaml');
    writeFileSync(
      bad,
      [
        'koji: { cert: ./pki/rekick-admin.pem }', // no server: a cross-field error
        'ssh: { key: ./pki/id_ed25519, knownHosts: ./var/known_hosts, hostKeyPolicy: trusting }', // a field-level one
        'irc: { host: irc, sasl: { account: rekick, password: 8675309123 } }',
        'installer: { kernel: k, initrd: i, kickstart: ks }',
        'hosts:',
        '  - { name: buildvm-x86-09, kind: virt, virthost: bvmhost-x86-01 }',
        '  - { name: bvmhost-x86-01, kind: virthost }',
        '',
      ].join('\n'),
    );
    const r = await rekick('check-config', bad);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      '  - installer.tree: required by the virt host buildvm-x86-09 (step 4 runs virt-install --location with it)',
      '  - irc.sasl.password: expected a string (value hidden: it is a secret)',
      '  - koji.server: required (or koji.profile)',
      '  - ssh.hostKeyPolicy: Invalid option: expected one of "strict"|"accept-new-after-reinstall" (got "trusting")',
    ]);
    expect(r.stderr).not.toContain('8675309123');
  });

  it('reinstall --dry-run prints the eight steps and touches nothing', async () => {
    const r = await rekick('reinstall', 'buildarm-01', 'buildvm-x86-01', '--config', configPath, '--dry-run');
    expect(r.code).toBe(0);
    for (const [i, s] of STEP_NAMES.entries()) expect(r.stdout).toContain(`[${i + 1}/8] ${s}`);
    expect(r.stdout).toMatch(/virsh destroy buildvm-x86-01/);
    expect(r.stdout).toMatch(/inst\.ks=http:\/\/infra\.example\.org\/ks\/buildarm-01\.ks/);
    expect(existsSync(path.join(dir, 'var/rekick.json'))).toBe(false);
    const unknown = await rekick('reinstall', 'nosuch', '--config', configPath, '--dry-run');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown host: nosuch/);
  });

  it('status, hosts and audit read the state file', async () => {
    const store = new LowdbStore(path.join(dir, 'var/rekick.json'));
    await store.open();
    const now = new Date().toISOString();
    const job: Job = {
      id: 'j-cli-1',
      host: 'buildarm-01',
      state: 'awaiting-approval',
      createdAt: now,
      updatedAt: now,
      requestedBy: { source: 'irc', id: 'kevin', display: 'kevin' },
      origin: { adapter: 'irc', room: '#builders' },
      options: {},
      steps: STEP_NAMES.map((name, i) => ({ name, status: i < 7 ? 'succeeded' : 'pending', attempts: i < 7 ? 1 : 0, durationMs: i < 7 ? 1000 : undefined })),
      current: 7,
      data: {},
    };
    await store.saveJob(job);
    await store.appendAudit({ at: now, who: { source: 'irc', id: 'kevin', display: 'kevin' }, action: 'reinstall', host: 'buildarm-01', jobId: 'j-cli-1', outcome: 'ok' });
    await store.appendAudit({ at: now, who: { source: 'irc', display: 'nirik' }, action: '!approve', host: 'buildarm-01', outcome: 'refused', detail: 'not logged in to services' });
    await store.close();

    const status = await rekick('status', 'buildarm-01', '--config', configPath);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/buildarm-01 job j-cli-1: awaiting-approval/);
    expect(status.stdout).toMatch(/\[7\/8\] reboot-verify succeeded/);
    const hosts = await rekick('hosts', '--config', configPath);
    expect(hosts.stdout).toMatch(/buildarm-01 .*awaiting-approval/);
    const audit = await rekick('audit', '--config', configPath, '--host', 'buildarm-01', '--since', '7d');
    expect(audit.stdout).toMatch(/irc:kevin reinstall buildarm-01 ok/);
    expect(audit.stdout).toMatch(/irc:nirik \(no account\) !approve buildarm-01 refused: not logged in to services/);
    const badSince = await rekick('audit', '--config', configPath, '--since', 'forever');
    expect(badSince.code).toBe(2);
  });

  it('audit shows security actions and refusals by time; --actions and --refusals show one kind; old actions are gone', async () => {
    // A state file of its own: the oldest entry first, as entries are appended in time order.
    const config = path.join(dir, 'audit-kinds.yaml');
    writeFileSync(config, readFileSync(configPath, 'utf8').replace(/^store: \S+/m, 'store: ./var/audit-kinds.json'));
    const store = new LowdbStore(path.join(dir, 'var/audit-kinds.json'));
    await store.open();
    const t = Date.now();
    const at = (minutesAgo: number) => new Date(t - minutesAgo * 60_000).toISOString();
    const eve = { source: 'irc' as const, id: 'eve', display: 'eve' };
    // Older than the config's default auditMaxAge (400 days): not shown.
    await store.appendAudit({ at: new Date(t - 500 * 86_400_000).toISOString(), who: { source: 'irc', id: 'kevin', display: 'kevin' }, action: 'cancel', host: 'buildarm-02', outcome: 'ok' });
    for (const m of [30, 20, 10]) store.noteRefusal({ at: at(m), who: eve, origin: { adapter: 'irc', room: '#builders' }, action: '!approve', host: 'buildarm-02', outcome: 'refused', detail: 'needs the approver role' });
    await store.appendAudit({ at: at(15), who: { source: 'irc', id: 'nirik', display: 'nirik' }, action: 'approve', host: 'buildarm-02', outcome: 'ok' });
    await store.close();

    const both = await rekick('audit', '--config', config);
    expect(both.code).toBe(0);
    expect(both.stdout.trim().split('\n')).toEqual([
      `${at(30)} irc:eve !approve buildarm-02 refused: needs the approver role (3 times, the last at ${at(10)})`,
      `${at(15)} irc:nirik approve buildarm-02 ok`,
    ]);
    const actions = await rekick('audit', '--config', config, '--actions');
    expect(actions.stdout.trim().split('\n')).toEqual([`${at(15)} irc:nirik approve buildarm-02 ok`]);
    const refusals = await rekick('audit', '--config', config, '--refusals', '--since', '12m', '--host', 'buildarm-02');
    expect(refusals.stdout.trim().split('\n')).toEqual([expect.stringMatching(/irc:eve !approve buildarm-02 refused: needs the approver role \(3 times/)]);
    const none = await rekick('audit', '--config', config, '--refusals', '--host', 'buildarm-01');
    expect(none.stdout).toBe('');
  });

  it('has --help for every subcommand and refuses an unknown one', async () => {
    for (const sub of ['lab', 'start', 'reinstall', 'check-config', 'status', 'hosts', 'audit']) {
      const r = await rekick(sub, '--help');
      expect(r.code, sub).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: rekick ${sub}`));
    }
    const r = await rekick('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });
});
