/**
 * Text for IRC lines: control characters out (no CR/LF injection, no CTCP), and a message cut into PRIVMSG lines
 * that fit IRC's 512 bytes once the server has put our prefix in front, never inside a UTF-8 character.
 */

/** Bytes of a line on the wire, CR LF included. */
export const IRC_LINE_BYTES = 512;
/** Longest user part (`~` + 9) and hostname a server may put in our prefix. */
const MAX_USER = 10;
const MAX_HOST = 63;

/** One line without control characters (C0, DEL, C1); tabs become a space. */
export function cleanIrcText(text: string): string {
  return text.replace(/\t/g, ' ').replace(/[\x00-\x1f\x7f-\x9f]/g, '');
}

/**
 * How many bytes of text a `PRIVMSG target :text` may carry when relayed as
 * `:nick!user@host PRIVMSG target :text\r\n` (the worst case prefix: longest user and host).
 */
export function privmsgBudget(nick: string, target: string): number {
  const prefix = 1 + Buffer.byteLength(nick) + 1 + MAX_USER + 1 + MAX_HOST + 1;
  const command = Buffer.byteLength(`PRIVMSG ${target} :`);
  return IRC_LINE_BYTES - 2 - prefix - command;
}

/**
 * Cuts one line into pieces of at most maxBytes UTF-8 bytes each, at a space when there is one in the last
 * quarter of a piece, otherwise at a character boundary (never inside a code point or a surrogate pair).
 */
export function splitUtf8(line: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError(`maxBytes must be at least 4, got ${maxBytes}`);
  const pieces: string[] = [];
  let rest = line;
  while (Buffer.byteLength(rest) > maxBytes) {
    // Longest prefix (in whole code points) that fits.
    let bytes = 0;
    let end = 0;
    for (const ch of rest) {
      const size = Buffer.byteLength(ch);
      if (bytes + size > maxBytes) break;
      bytes += size;
      end += ch.length;
    }
    let cut = end;
    const space = rest.lastIndexOf(' ', end);
    if (space > 0 && Buffer.byteLength(rest.slice(0, space)) >= maxBytes * 0.75) cut = space;
    pieces.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^ +/, '');
  }
  if (rest.length || !pieces.length) pieces.push(rest);
  return pieces.filter((p, i) => p.length > 0 || i === 0);
}

/** A message (maybe several lines) as the PRIVMSG texts to send to target, each within the budget. */
export function ircLines(text: string, nick: string, target: string): string[] {
  const budget = privmsgBudget(nick, target);
  const out: string[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = cleanIrcText(raw).trimEnd();
    if (!line.trim()) continue;
    out.push(...splitUtf8(line, budget));
  }
  return out;
}
