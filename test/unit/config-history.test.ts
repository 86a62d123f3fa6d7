/**
 * The audit trail's retention keys under `history:`: auditMaxEntries (maxAudit, its old name, still accepted, not
 * both), auditMaxAge (a duration, 400 days by default) and refusalsMax, given to the store under its own names.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { problemsOf } from '../support/config-problems';

const DAY = 86_400_000;

function history(keys: string): unknown {
  const yaml = `
koji: { server: "https://koji.example.org/kojihub", cert: /c.pem, serverca: /ca.pem }
ssh: { key: /k, knownHosts: /kh }
installer: { kernel: k, initrd: i, kickstart: ks }
history: { ${keys} }
hosts:
  - { name: a, kind: baremetal }
`;
  return parseConfig(yaml, { baseDir: '/', checkFiles: false }).history;
}

function problems(keys: string): string {
  return problemsOf(() => history(keys)).join('\n');
}

describe('history: the audit trail', () => {
  it('defaults: 100,000 security actions for 400 days, 200 refusals', () => {
    expect(history('')).toEqual({ keepFinishedPerHost: 5, maxAudit: 100_000, auditMaxAge: 400 * DAY, refusalsMax: 200 });
  });

  it('auditMaxEntries, auditMaxAge and refusalsMax as set', () => {
    expect(history('auditMaxEntries: 5000, auditMaxAge: 90d, refusalsMax: 0')).toMatchObject({ maxAudit: 5000, auditMaxAge: 90 * DAY, refusalsMax: 0 });
  });

  it('maxAudit, the old name of auditMaxEntries, still works', () => {
    expect(history('maxAudit: 10000')).toMatchObject({ maxAudit: 10_000, auditMaxAge: 400 * DAY });
  });

  it('refuses both names at once, a too-short age and a negative refusal list, naming each key', () => {
    expect(problems('maxAudit: 1000, auditMaxEntries: 2000')).toMatch(/history\.maxAudit: maxAudit is the old name of auditMaxEntries/);
    expect(problems('auditMaxAge: 1h')).toMatch(/history\.auditMaxAge: expected at least 1d/);
    expect(problems('auditMaxAge: forever')).toMatch(/history\.auditMaxAge: expected a duration/);
    expect(problems('refusalsMax: -1')).toMatch(/history\.refusalsMax/);
    expect(problems('auditMaxEntries: 10')).toMatch(/history\.auditMaxEntries/);
  });
});
