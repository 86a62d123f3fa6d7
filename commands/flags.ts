/**
 * Splits a command's words into positional words and known `--flags` (`--reason TEXT`, `--reason=TEXT`).
 * An unknown flag refuses the line, so a typo never runs a command with something left out.
 */
import { UserError } from '../src/errors';
import { showWord } from '../src/hosts/host-words';

export interface FlagSpec {
  /** Flag names without `--`: true for a flag that takes a value. */
  [name: string]: boolean;
}

export interface SplitWords {
  positional: string[];
  flags: Record<string, string | true>;
}

export function splitFlags(words: string[], spec: FlagSpec): SplitWords {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('--') || w === '--') {
      positional.push(w);
      continue;
    }
    const eq = w.indexOf('=');
    const name = (eq === -1 ? w.slice(2) : w.slice(2, eq)).toLowerCase();
    if (!(name in spec)) throw new UserError(`unknown option ${showWord(w.slice(0, eq === -1 ? undefined : eq))}`, 'E_USAGE');
    if (name in flags) throw new UserError(`--${name} given twice`, 'E_USAGE');
    if (spec[name]) {
      const value = eq === -1 ? words[++i] : w.slice(eq + 1);
      if (value === undefined || value === '' || (eq === -1 && value.startsWith('--'))) throw new UserError(`--${name} needs a value`, 'E_USAGE');
      flags[name] = value;
    } else {
      if (eq !== -1) throw new UserError(`--${name} takes no value`, 'E_USAGE');
      flags[name] = true;
    }
  }
  return { positional, flags };
}
