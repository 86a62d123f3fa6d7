/** `{host}`, `{arch}`, `{address}` in config values, replaced with one host's values. */
import type { HostConfig } from '../config/schema';
import { shellQuote } from './shell-quote';

export interface HostValues {
  host: string;
  arch: string;
  address: string;
}

export function hostValues(host: HostConfig): HostValues {
  return { host: host.name, arch: host.arch, address: host.address ?? host.name };
}

/** Replaces the placeholders with the plain values (for URLs, paths and file contents). */
export function substitute(text: string, values: HostValues): string {
  return text.replace(/\{(host|arch|address)\}/g, (_, k: keyof HostValues) => values[k]);
}

/** Replaces the placeholders with shell-quoted values (for commands written by the site as shell). */
export function substituteQuoted(command: string, values: HostValues): string {
  return command.replace(/\{(host|arch|address)\}/g, (_, k: keyof HostValues) => shellQuote(values[k]));
}
