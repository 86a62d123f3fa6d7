/**
 * IRC formatting codes (bold, colours, reset, reverse, italic, strike, underline, mono): dropped from every
 * adapter's command line before the router sees it, whichever chat it came through (a line bridged from IRC
 * into Slack carries them too); other control characters are the router's to refuse.
 */

/** Bold, colour (with its digits), hex colour, reset, reverse, italic, strike, underline, mono. */
const IRC_FORMATTING = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** The text without IRC formatting codes. */
export function stripIrcFormatting(text: string): string {
  return text.replace(IRC_FORMATTING, '');
}
