/**
 * Host words to hosts: `NAME` to its host, `group:NAME` to the group's hosts, in the order given, each host once.
 * An unknown word refuses with E_UNKNOWN_HOST or E_UNKNOWN_GROUP (plain; host-words.ts checks first and suggests).
 */
import type { HostConfig } from '../config/schema';
import { UserError } from '../errors';
import type { HostIndex } from './host-index';

export function expandHostWords(index: HostIndex, words: readonly string[]): HostConfig[] {
  const out: HostConfig[] = [];
  const seen = new Set<string>();
  for (const word of words) {
    for (const h of hostsOfWord(index, word)) {
      if (!seen.has(h.name)) out.push(h);
      seen.add(h.name);
    }
  }
  return out;
}

function hostsOfWord(index: HostIndex, word: string): HostConfig[] {
  if (word.startsWith('group:')) {
    const group = word.slice('group:'.length);
    const hosts = index.hosts.filter((h) => h.groups.includes(group));
    if (!hosts.length) throw new UserError(`unknown group: ${group}`, 'E_UNKNOWN_GROUP');
    return hosts;
  }
  const h = index.host(word);
  if (!h) throw new UserError(`unknown host: ${word}`, 'E_UNKNOWN_HOST');
  return [h];
}
