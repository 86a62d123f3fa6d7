/**
 * Binds an IRC line to the services account of the user who sent it, when it arrives (never when its turn comes:
 * by then the nick may belong to someone else). In order of preference:
 * 1. the IRCv3 account tag (`account-tag`): a server that tags messages tags every logged-in user's line, so no
 *    tag means no account;
 * 2. the account map (`account-notify`, `extended-join`): the nick shares a channel with rekick and the map's
 *    user@host is the line's;
 * 3. WHOIS, asked at once (written when rekick's pace allows, shared with other lines of the nick that arrived
 *    before it was written: whois.ts): its answer counts only if it is for the line's nick!user@host and
 *    nothing happened to the nick (seen by rekick) between the line and the answer.
 * When WHOIS cannot confirm who sent the line (no answer in time, an answer for another user, nobody of that nick
 * any more, connection lost, too many WHOIS waiting) the line is unbound: `unconfirmed` says why, and roles refuse it.
 */
import type { Logger } from 'pino';
import type { AccountTracker } from './accounts';
import type { WhoisRequests } from './whois';

export interface LineBinding {
  /** The services account; undefined when the user is not logged in (or unconfirmed). */
  account?: string;
  /** Why the sender's account could not be confirmed (then account is undefined). */
  unconfirmed?: string;
}

export interface LineSender {
  nick: string;
  ident?: string;
  hostname?: string;
  /** The account tag, when the server sent one. */
  account?: string;
}

export interface IdentityBinderDeps {
  accountTag(): boolean;
  tracker: AccountTracker;
  whois: WhoisRequests;
  log: Logger;
}

export const UNCONFIRMED = {
  timeout: 'WHOIS did not answer in time',
  otherUser: 'WHOIS answered for another user (the nick changed hands)',
  gone: 'WHOIS found nobody of that nick any more',
  closed: 'the IRC connection closed before WHOIS answered',
  noMask: 'the server did not say who sent the line',
  busy: 'too many WHOIS waiting (rekick is being flooded)',
} as const;

/** The binding of a line from `sender`, now (synchronous) when the tag or the map knows it, else via WHOIS. */
export function bindLine(deps: IdentityBinderDeps, sender: LineSender): LineBinding | Promise<LineBinding> {
  if (sender.account) return { account: sender.account };
  if (deps.accountTag()) return {};
  const tracked = deps.tracker.lookup(sender.nick, sender.ident, sender.hostname);
  if (tracked) return tracked;
  if (!sender.ident || !sender.hostname) return { unconfirmed: UNCONFIRMED.noMask };
  const watch = deps.tracker.watch(sender.nick);
  return deps.whois.ask(sender.nick).then((outcome): LineBinding => {
    const changed = watch.changed();
    watch.done();
    const fields = { nick: sender.nick, mask: `${sender.ident}@${sender.hostname}` };
    switch (outcome.kind) {
      case 'timeout':
        deps.log.warn(fields, 'WHOIS for the sender of a line did not answer in time; its role commands are refused');
        return { unconfirmed: UNCONFIRMED.timeout };
      case 'closed':
        return { unconfirmed: UNCONFIRMED.closed };
      case 'busy':
        deps.log.debug(fields, 'too many nicks wait for a WHOIS; the line is unconfirmed, its role commands are refused');
        return { unconfirmed: UNCONFIRMED.busy };
      case 'not-found':
        deps.log.warn(fields, 'WHOIS found nobody of the nick that sent a line; its role commands are refused');
        return { unconfirmed: UNCONFIRMED.gone };
      case 'answer': {
        const sameUser = outcome.ident === sender.ident && outcome.hostname === sender.hostname;
        if (!sameUser || changed) {
          deps.log.warn({ ...fields, answered: `${outcome.ident}@${outcome.hostname}`, account: outcome.account, nickChanged: changed }, 'WHOIS answered for another user than the one who sent the line; its role commands are refused');
          return { unconfirmed: UNCONFIRMED.otherUser };
        }
        // The answer is the state now: if the nick shares a channel with rekick, follow it from here on.
        deps.tracker.learn(outcome.nick, outcome.ident!, outcome.hostname!, outcome.account);
        return outcome.account ? { account: outcome.account } : {};
      }
    }
  });
}
