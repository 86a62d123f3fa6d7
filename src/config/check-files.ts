/**
 * The load-time checks of the files rekick's steps will read on the rekick machine (certificates, keys, keytab,
 * playbooks, post-install templates and sources, per host where the path names one): each must be readable now.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { readKeytabPrincipals } from '../koji/kerberos';
import { substitute } from '../ssh/placeholders';
import { hostsOf, type Add, type HostView, type SectionView, type View } from './problems';
import { has, valid, type Invalid } from './salvage';

/** Why `p` cannot be read as a file by this process, or undefined when it can. */
export function unreadable(p: string): string | undefined {
  let st;
  try {
    st = statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
  }
  if (st.isDirectory()) return 'is a directory, expected a file';
  try {
    accessSync(p, constants.R_OK);
  } catch {
    return `is not readable by rekick (uid ${process.getuid?.() ?? '?'}): fix its permissions`;
  }
  return undefined;
}

/** The keytab holds a key for koji.principal. */
export function checkKeytab(keytab: string, principal: string | undefined, add: Add): void {
  try {
    const held = readKeytabPrincipals(keytab);
    const want = principal && (principal.includes('@') ? principal : undefined);
    const base = principal && !principal.includes('@') ? principal : undefined;
    if (held.length === 0) add(['koji', 'keytab'], `${keytab} holds no keys; export rekick's key into it (kadmin ktadd -k, or ipa-getkeytab)`);
    else if ((want && !held.includes(want)) || (base && !held.some((h) => h.slice(0, h.lastIndexOf('@')) === base))) {
      add(['koji', 'keytab'], `${keytab} holds no key for koji.principal ${principal} (it holds ${held.join(', ')})`);
    }
  } catch (err) {
    add(['koji', 'keytab'], (err as Error).message);
  }
}

/** The files the steps will read on the rekick machine: each must exist and be readable now. */
export function checkFiles(view: View, add: Add, abs: (p: string) => string): void {
  const file = (at: PropertyKey[], p: unknown, forHost?: string) => {
    if (typeof p !== 'string') return;
    const why = unreadable(abs(p));
    if (why) add(at, `file ${abs(p)}${forHost ? ` (for host ${forHost})` : ''} ${why}`);
  };
  if (has(view.koji)) for (const k of ['cert', 'serverca', 'keytab'] as const) file(['koji', k], view.koji[k]);
  if (has(view.ssh)) file(['ssh', 'key'], view.ssh.key);
  const hosts = hostsOf(view);
  const sections: Array<[string, SectionView | Invalid, (h: HostView) => boolean]> = [
    ['postinstall', view.postinstall, (h) => h.kind !== 'virthost'],
    ['virthostPostinstall', view.virthostPostinstall, (h) => h.kind === 'virthost'],
  ];
  for (const [name, section, usedBy] of sections) {
    if (!has(section)) continue;
    if (has(section.playbook)) {
      file([name, 'playbook', 'path'], section.playbook.path);
      file([name, 'playbook', 'inventory'], section.playbook.inventory);
    }
    if (!has(section.files)) continue;
    section.files.forEach((f, i) => {
      if (!has(f)) return;
      // A template's path is used as written ({host} is replaced in its content); a source's path per host.
      file([name, 'files', i, 'template'], f.template);
      if (!has(f.source)) return;
      if (!/\{(host|arch|address)\}/.test(f.source)) return file([name, 'files', i, 'source'], f.source);
      for (const [, h] of hosts) {
        if (!valid(h.kind) || !usedBy(h) || !has(h.name) || !has(h.arch) || !valid(h.address)) continue;
        file([name, 'files', i, 'source'], substitute(f.source, { host: h.name, arch: h.arch, address: h.address ?? h.name }), h.name);
      }
    });
  }
}
