/** The chat commands as the router uses them: the list, lookup by name or alias, usage lines, did-you-mean. */
import { describeUsage, findCommand } from './help';
import { didYouMean } from '../src/hosts/did-you-mean';
import type { CommandSpec } from './types';

export function createCommandRegistry(all: readonly CommandSpec[]) {
  const names = all.map((c) => c.name);
  return {
    all,
    find: (name: string) => findCommand(all, name),
    usage: (spec: CommandSpec) => describeUsage(spec),
    suggest: (typed: string) => didYouMean(typed, names, '!'),
  };
}
