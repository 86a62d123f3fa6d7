/**
 * The checks that span fields, and the load-time checks of what each host's steps will need (the files they read:
 * check-files.ts; the installer keys their driver uses). They run on what parsed — also when other fields did not
 * (see salvage.ts) — and skip, item by item, any check whose own inputs are INVALID: those are reported by the
 * schema already.
 */
import path from 'node:path';
import { ConfigError } from '../errors';
import { parseWindow } from '../rolling/window';
import { checkFiles, checkKeytab, unreadable } from './check-files';
import { httpExposureProblems } from './http-exposure';
import { hostsOf, keyPath, type Add, type HostView, type Problem, type View } from './problems';
import type { Config } from './schema';
import { has, valid } from './salvage';

const LIST_AT_MOST = 10;

function namesList(names: string[]): string {
  const shown = names.slice(0, LIST_AT_MOST).join(', ');
  return names.length > LIST_AT_MOST ? `${shown} and ${names.length - LIST_AT_MOST} more` : shown;
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
