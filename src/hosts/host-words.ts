/**
 * Host words a person typed (`buildarm-03`, `group:buildhw-aarch64`), checked before anything is asked of the
 * executor: exact ASCII names only (a look-alike letter is an unknown host), the first unknown word refuses the
 * whole line with the closest name suggested and what was not done (`nothing queued`).
 */
import type { HostConfig } from '../config/schema';
import { UserError } from '../errors';
import { didYouMean } from './did-you-mean';
import { expandHostWords } from './expand';
import { groupNames, type HostIndex } from './host-index';

const ASCII_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** How a typed word is shown back: bounded, with non-ASCII characters spelled out so look-alikes are visible. */
export function showWord(word: string): string {
  const short = [...word].length > 64 ? `${[...word].slice(0, 64).join('')}…` : word;
  const odd = [...new Set([...short].filter((c) => c.codePointAt(0)! > 0x7e))];
  if (!odd.length) return short;
  const codes = odd.slice(0, 4).map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  return `${short} (has non-ASCII ${codes.join(' ')})`;
}

/** Checks one word; throws UserError naming it (and the closest known name), with `nothing` appended. */
export function checkHostWord(index: HostIndex, word: string, nothing: string, allowGroups = true): void {
  if (word.startsWith('group:')) {
    const group = word.slice('group:'.length);
    if (!allowGroups) throw new UserError(`name one host, not a group (${showWord(word)}); ${nothing}`, 'E_USAGE');
    const groups = groupNames(index);
    if (!ASCII_NAME.test(group) || !groups.includes(group)) {
      throw new UserError(`unknown group: ${showWord(group)}${didYouMean(group, groups, 'group:')}; ${nothing}`, 'E_UNKNOWN_GROUP');
    }
    return;
  }
  if (!ASCII_NAME.test(word) || !index.host(word)) {
    const names = index.hosts.map((h) => h.name);
    throw new UserError(`unknown host: ${showWord(word)}${didYouMean(word, names)}; ${nothing}`, 'E_UNKNOWN_HOST');
  }
}

/** All words checked first (one bad word refuses all), then expanded: groups to their hosts, duplicates once. */
export function resolveHostWords(index: HostIndex, words: string[], nothing: string): HostConfig[] {
  for (const w of words) checkHostWord(index, w, nothing);
  return expandHostWords(index, words);
}

/** One host name, checked (a group refuses). */
export function resolveOneHost(index: HostIndex, word: string, nothing: string): HostConfig {
  checkHostWord(index, word, nothing, false);
  return index.host(word)!;
}
