/** The one host resolver (src/hosts/): host words to hosts, plain (executor, dry-run plan) and checked (commands). */
import { describe, expect, it } from 'vitest';
import type { HostConfig } from '../../src/config/schema';
import { expandHostWords } from '../../src/hosts/expand';
import { groupNames, hostIndexOf, indexHosts } from '../../src/hosts/host-index';
import { checkHostWord, resolveHostWords, resolveOneHost, showWord } from '../../src/hosts/host-words';

const host = (name: string, groups: string[]) => ({ name, groups, arch: 'x86_64', kind: 'baremetal' }) as unknown as HostConfig;
const HOSTS = [host('buildarm-01', ['arm']), host('buildarm-02', ['arm']), host('buildhw-x86-01', ['x86', 'hw'])];
const index = indexHosts(HOSTS);

function refusal(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('host resolver', () => {
  it('expands names and groups in the order given, each host once', () => {
    expect(expandHostWords(index, ['buildhw-x86-01', 'group:arm', 'buildarm-01']).map((h) => h.name)).toEqual(['buildhw-x86-01', 'buildarm-01', 'buildarm-02']);
  });

  it('refuses an unknown word plainly, with its code', () => {
    expect(refusal(() => expandHostWords(index, ['nosuch']))).toMatchObject({ code: 'E_UNKNOWN_HOST', message: 'unknown host: nosuch' });
    expect(refusal(() => expandHostWords(index, ['group:nosuch']))).toMatchObject({ code: 'E_UNKNOWN_GROUP', message: 'unknown group: nosuch' });
  });

  it('checks typed words first, suggesting the closest name and saying what was not done', () => {
    expect(refusal(() => resolveHostWords(index, ['buildarm-01', 'buildarm-1'], 'nothing queued'))).toMatchObject({
      code: 'E_UNKNOWN_HOST',
      message: 'unknown host: buildarm-1 — did you mean buildarm-01?; nothing queued',
    });
    expect(refusal(() => checkHostWord(index, 'group:ar', 'nothing shown'))).toMatchObject({ code: 'E_UNKNOWN_GROUP', message: 'unknown group: ar — did you mean group:arm?; nothing shown' });
    expect(refusal(() => resolveOneHost(index, 'group:arm', 'nothing cancelled'))).toMatchObject({ code: 'E_USAGE' });
    expect(resolveOneHost(index, 'buildarm-02', 'x').name).toBe('buildarm-02');
  });

  it('treats a look-alike letter as an unknown host and shows it', () => {
    const cyrillicA = 'buildаrm-01';
    expect(refusal(() => checkHostWord(index, cyrillicA, 'nothing queued')).message).toContain('(has non-ASCII U+0430)');
    expect(showWord('x'.repeat(70)).startsWith(`${'x'.repeat(64)}…`)).toBe(true);
  });

  it('reads the hosts of anything holding a config and a lookup (the executor as commands see it)', () => {
    const viaExecutor = hostIndexOf({ config: { hosts: HOSTS }, host: (n) => HOSTS.find((h) => h.name === n) });
    expect(groupNames(viaExecutor)).toEqual(['arm', 'hw', 'x86']);
    expect(expandHostWords(viaExecutor, ['group:x86']).map((h) => h.name)).toEqual(['buildhw-x86-01']);
  });
});
