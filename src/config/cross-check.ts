/**
 * The checks that span fields, and the load-time checks of what each host's steps will need (the files they read,
 * the installer keys their driver uses). They run on what parsed — also when other fields did not (see salvage.ts)
 * — and skip, item by item, any check whose own inputs are INVALID: those are reported by the schema already.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';
import { readKeytabPrincipals } from '../koji/kerberos';
import { parseWindow } from '../rolling/window';
import { substitute } from '../ssh/placeholders';
import { httpExposureProblems } from './http-exposure';
import type { Config } from './schema';
import { has, valid, type Invalid, type Loose } from './salvage';

export interface Problem {
  /** Key path, for sorting: ['hosts', 2, 'virthost']. */
  at: PropertyKey[];
  text: string;
}

type View = Loose<Config>;
type HostView = Loose<Config['hosts'][number]>;
type SectionView = Loose<Config['postinstall']>;

const LIST_AT_MOST = 10;

function namesList(names: string[]): string {
  const shown = names.slice(0, LIST_AT_MOST).join(', ');
  return names.length > LIST_AT_MOST ? `${shown} and ${names.length - LIST_AT_MOST} more` : shown;
}

/** Why `p` cannot be read as a file by this process, or undefined when it can. */
function unreadable(p: string): string | undefined {
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

export function crossCheck(view: View, options: { baseDir: string; checkFiles: boolean }): Problem[] {
  const problems: Problem[] = [];
  const add = (at: PropertyKey[], message: string) => problems.push({ at, text: `${keyPath(at)}: ${message}` });
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(options.baseDir, p));

  checkHosts(view, add);
  checkInstaller(view, add);
  if (has(view.rolling) && has(view.rolling.window)) {
    try {
      parseWindow(view.rolling.window);
    } catch (err) {
      for (const text of err instanceof ConfigError ? err.problems : [`rolling.window: ${(err as Error).message}`]) {
        problems.push({ at: ['rolling', 'window'], text });
      }
    }
  }
  checkKoji(view, add, options.checkFiles ? abs : undefined);
  if (has(view.roles)) {
    for (const [role, ids] of Object.entries(view.roles)) {
      if (!has(ids)) continue;
      const strings = ids.filter((id): id is string => typeof id === 'string');
      if (new Set(strings).size !== strings.length) add(['roles', role], 'an identity appears twice');
    }
  }
  if (options.checkFiles) checkFiles(view, add, abs);
  checkHttpExposure(view, problems, abs, options.checkFiles);
  return problems;
}

/** The HTTP exposure checks (http-exposure.ts), when the sections they read are valid. */
function checkHttpExposure(view: View, problems: Problem[], abs: (p: string) => string, checkFiles: boolean): void {
  const { http, slack } = view;
  if (!has(http) || !valid(slack) || Object.values(http).some((v) => !valid(v))) return;
  if (slack && Object.values(slack).some((v) => !valid(v))) return;
  const resolved = { ...(http as Config['http']), tokenFile: has(http.tokenFile) ? abs(http.tokenFile) : undefined };
  problems.push(...httpExposureProblems({ http: resolved, slack: slack as Config['slack'] } as Config, checkFiles));
}

type Add = (at: PropertyKey[], message: string) => void;

function hostsOf(view: View): Array<[number, HostView]> {
  if (!has(view.hosts)) return [];
  return view.hosts.flatMap((h, i): Array<[number, HostView]> => (has(h) ? [[i, h]] : []));
}

function checkHosts(view: View, add: Add): void {
  const hosts = hostsOf(view);
  const byName = new Map<string, HostView>();
  // A host that did not parse, or whose name did not, might be the one a reference means: then "not a host in
  // this file" is not said.
  const allNamesKnown = has(view.hosts) && view.hosts.every((h) => has(h) && has(h.name));
  for (const [i, h] of hosts) {
    if (!has(h.name)) continue;
    if (byName.has(h.name)) add(['hosts', i, 'name'], `"${h.name}" appears twice`);
    else byName.set(h.name, h);
  }
  for (const [i, h] of hosts) {
    if (!valid(h.kind) || !valid(h.virthost)) continue;
    if (h.kind === 'virt') {
      if (h.virthost === undefined) {
        add(['hosts', i, 'virthost'], 'a virt host needs a virthost');
        continue;
      }
      const vh = byName.get(h.virthost);
      if (!vh) {
        if (allNamesKnown) add(['hosts', i, 'virthost'], `"${h.virthost}" is not a host in this file`);
      } else if (valid(vh.kind) && vh.kind !== 'virthost') {
        add(['hosts', i, 'virthost'], `"${h.virthost}" is kind ${vh.kind}, expected virthost`);
      }
    } else if (h.virthost !== undefined) {
      add(['hosts', i, 'virthost'], 'only a virt host has a virthost');
    }
  }
}

/** Step 4's drivers: a virt host is installed with virt-install --location installer.tree. */
function checkInstaller(view: View, add: Add): void {
  if (!has(view.installer) || view.installer.tree !== undefined) return;
  const virt = hostsOf(view)
    .filter(([, h]) => h.kind === 'virt')
    .map(([i, h]) => (has(h.name) ? h.name : `hosts[${i}]`));
  if (virt.length) {
    add(['installer', 'tree'], `required by the virt host${virt.length > 1 ? 's' : ''} ${namesList(virt)} (step 4 runs virt-install --location with it)`);
  }
}

function checkKoji(view: View, add: Add, abs: ((p: string) => string) | undefined): void {
  const koji = view.koji;
  if (!has(koji)) return;
  const { server, profile, authtype, cert, principal, keytab } = koji;
  if (server === undefined && profile === undefined) add(['koji', 'server'], 'required (or koji.profile)');
  if (valid(authtype) && valid(cert) && valid(principal) && valid(keytab) && valid(profile)) {
    // as the Koji client decides: ssl with a certificate, kerberos when a principal or keytab is all there is
    const type = authtype ?? (!cert && (principal || keytab) ? 'kerberos' : 'ssl');
    if (type === 'ssl' && !cert && !profile) add(['koji', 'cert'], 'required for authtype ssl');
    if (type === 'ssl' && (principal || keytab)) {
      add(['koji', principal ? 'principal' : 'keytab'], 'used only with authtype kerberos (set koji.authtype: kerberos, or remove it)');
    }
    if (type === 'kerberos' && abs && keytab && !unreadable(abs(keytab))) checkKeytab(abs(keytab), principal, add); // else: reported as a file
  }
  if (has(principal) && !/^[^@\s/][^@\s]*(@[^@\s]+)?$/.test(principal)) {
    add(['koji', 'principal'], `expected a Kerberos principal like rekick@EXAMPLE.ORG (got ${JSON.stringify(principal)})`);
  }
}

function checkKeytab(keytab: string, principal: string | undefined, add: Add): void {
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
function checkFiles(view: View, add: Add, abs: (p: string) => string): void {
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

export function keyPath(at: readonly PropertyKey[]): string {
  if (!at.length) return '(top level)';
  return at.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

/** Orders problems by key path (indexes in numeric order); problems at one path keep their order. */
export function byKeyPath(a: Problem, b: Problem): number {
  for (let i = 0; i < Math.min(a.at.length, b.at.length); i++) {
    const x = a.at[i]!;
    const y = b.at[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.at.length - b.at.length;
}
