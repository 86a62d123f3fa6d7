/**
 * A command line as the router reads it: hostile text refused (control characters, bidi/zero-width tricks,
 * over-long lines), the leading `!` dropped, and the words split (quotes keep spaces inside one word).
 */
import { UserError } from '../errors';

export const MAX_LINE = 512;

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

export class LineError extends UserError {}

/** Tabs become spaces; refuses control characters, bidi/zero-width tricks and over-long lines. */
export function cleanLine(text: string): string {
  if (text.length > MAX_LINE) throw new LineError(`line too long (${text.length} characters; at most ${MAX_LINE}); nothing done`, 'E_TOO_LONG');
  const plain = text.replace(/\t/g, ' ');
  if (CONTROL.test(plain)) throw new LineError('the line has control or invisible characters; type it plainly; nothing done', 'E_CONTROL');
  return plain;
}

/** The command and its words as typed, without the leading `!` (`!status a` and `status a` are the same). */
export function commandOf(line: string): string {
  return line.trim().replace(/^!/, '');
}

/** Words separated by spaces; "double" or 'single' quotes keep spaces inside one word. */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new LineError(`unterminated ${quote} quote; nothing done`, 'E_USAGE');
  if (inWord) words.push(cur);
  return words;
}
