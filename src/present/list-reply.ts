/**
 * Replies that grow with the fleet (!hosts, !queue): in full when they fit the room; in a channel, when they do
 * not, a summary (counts, the status page, how to get the list); in a private message, page by page. So one line
 * from anyone never queues minutes of output in a channel.
 */
import { UserError } from '../errors';

/** Where a list goes and how much of it fits there. */
export interface ListRoom {
  /** Lines a list may take here (Infinity: all of it). */
  lines: number;
  /** A private message: long lists are paged; else they are summarised. */
  private: boolean;
  /** The status page's address, named in summaries. */
  statusUrl?: string;
  /** The bot's name, for "in a private message to rekick". */
  botName: string;
}

/**
 * Where a command's context says nothing (a caller without the router): a channel of the default size (the chat
 * adapters' DEFAULT_REPLY_LINES.room; a unit test keeps the two equal).
 */
export const DEFAULT_LIST_ROOM: ListRoom = { lines: 10, private: false, botName: 'rekick' };

export interface ListReply {
  /** Every line of the list. */
  lines: string[];
  /** What the list is of, plural ("hosts"). */
  noun: string;
  /** The counts shown in a channel instead of a list that does not fit (one line). */
  summary: () => string;
  /** The command that gives the list, without `!` and `--page` ("hosts group:arm"). */
  command: string;
  /** The page asked for (`--page N`). */
  page?: number;
  room: ListRoom;
}

/** The reply's text (lines separated by \n). A page past the last refuses (E_USAGE). */
export function listReply(r: ListReply): string {
  const { lines, room } = r;
  const size = Math.max(1, room.lines);
  const pages = Math.max(1, Math.ceil(lines.length / size));
  const page = r.page ?? 1;
  const noPage = () => new UserError(`there ${pages === 1 ? 'is 1 page' : `are ${pages} pages`} of ${r.noun}; no page ${page}`, 'E_USAGE');
  if (pages === 1) {
    if (page > 1) throw noPage();
    return lines.join('\n');
  }
  if (!room.private) {
    const link = room.statusUrl ? `; the status page has them all: ${room.statusUrl}` : '';
    return `${r.summary()}${link}; !${r.command} --page 1 in a private message to ${room.botName} lists them page by page`;
  }
  if (page > pages) throw noPage();
  const shown = lines.slice((page - 1) * size, page * size);
  const more = page < pages ? `; !${r.command} --page ${page + 1} for more` : '';
  return [...shown, `page ${page}/${pages} of ${lines.length} ${r.noun}${more}`].join('\n');
}

/** `--page N`: a page number from 1 to 10,000. */
export function parsePage(value: string | true | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 10_000)) throw new UserError(`--page takes a page number from 1, got "${String(value).slice(0, 16)}"`, 'E_USAGE');
  return n;
}
