/**
 * IRC's front door: which lines are for rekick and the command line each one hands to the router. In a channel:
 * lines starting with `!`, and lines addressed `nick: ...` / `nick, ...`; every private message. IRC formatting
 * (bold, colours, ...) is dropped from the command line: the router gets plain text.
 */
import { stripIrcFormatting } from '../formatting';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The text to hand to the router, or undefined when the line is not for rekick: channel lines starting with
 * `!`, lines addressed `nick: ...` / `nick, ...` (given as `!...`), and every private message (`!` added).
 */
export function commandFromLine(text: string, botNick: string, isPrivate: boolean): string | undefined {
  const line = text.trim();
  if (!line) return undefined;
  if (line.startsWith('!')) return line;
  const addressed = new RegExp(`^${escapeRe(botNick)}[:,]\\s*`, 'i').exec(line);
  if (addressed) {
    const rest = line.slice(addressed[0].length).trim();
    if (!rest) return undefined;
    return rest.startsWith('!') ? rest : `!${rest}`;
  }
  if (isPrivate) return `!${line}`;
  return undefined;
}

/**
 * The command line for the router, formatting dropped, or undefined when the line is not for rekick. `nicks`:
 * the nick in use and the configured one (`rekick_` while `rekick` is taken: both address rekick).
 */
export function ircCommandLine(text: string, nicks: readonly string[], isPrivate: boolean): string | undefined {
  for (const nick of nicks) {
    const line = commandFromLine(text, nick, isPrivate);
    if (line !== undefined) return stripIrcFormatting(line);
  }
  return undefined;
}
