/**
 * Slack's front door: which messages are for rekick and the command line each hands to the router. A channel
 * message starting with `!`; every direct message; a mention (`<@U123> status`); the /rekick slash command
 * (`/rekick` alone is `!help`). Approve/Deny clicks say their command themselves (incoming.ts). IRC formatting
 * codes (a line bridged from IRC) are dropped from the command line, as IRC's own front door drops them.
 */
import { stripIrcFormatting } from '../formatting';

/** A message's command line: a direct message is always for rekick (like an IRC private message). */
export function messageCommand(text: string, direct: boolean): string | undefined {
  const line = text.trim();
  if (direct) return stripIrcFormatting(line.startsWith('!') ? line : `!${line}`);
  return line.startsWith('!') ? stripIrcFormatting(line) : undefined;
}

/** `<@U123> status` / `<@U123>: !status` -> `!status` */
export function mentionCommand(text: string): string | undefined {
  const rest = text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>[:,]?\s*/, '').trim();
  if (!rest) return undefined;
  return stripIrcFormatting(rest.startsWith('!') ? rest : `!${rest}`);
}

/** The text after `/rekick` as a command line. */
export function slashCommand(text: string): string {
  return stripIrcFormatting(`!${text.trim().replace(/^!/, '') || 'help'}`);
}
