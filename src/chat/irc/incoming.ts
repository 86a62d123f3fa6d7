/**
 * A PRIVMSG reaching rekick: our own line echoed back (delivered), or a line from someone that is handed on
 * when it is meant for rekick, with its sender bound to a services account as it arrives (identity.ts).
 */
import type { MessageEvent } from 'irc-framework';
import type { Identity, Origin } from '../../model';
import type { ChatMessage } from '../chat-adapter';
import { bindLine } from './identity';
import { ircCommandLine } from './addressing';
import { pump } from './pump';
import { sameName } from './casefold';
import type { IrcState } from './state';
import type { IrcClientLike } from './types';

const isChannel = (name: string) => /^[#&]/.test(name);

export function onPrivmsg(state: IrcState, c: IrcClientLike, event: MessageEvent): void {
  if (event.nick && sameName(event.nick, state.currentNick)) {
    // echo-message: the server has taken our line.
    if (state.outbox.confirm(event.target, event.message)) {
      state.stats.delivered += 1;
      pump(state);
    }
    return;
  }
  const isPrivate = !isChannel(event.target);
  // Addressed by the configured nick or the one in use (`rekick_` while `rekick` is taken); formatting dropped.
  const text = ircCommandLine(event.message, [state.currentNick, state.config.nick], isPrivate);
  if (text === undefined || !state.onMessage) return;
  const handler = state.onMessage;
  const { tracker, whois, log } = state;
  // When the line arrived, before its binding's WHOIS: `!approve all` counts only what was announced by then.
  const receivedAt = new Date(state.now());
  // Bound now, as the line arrives (a WHOIS goes out at once); handled in arrival order.
  const binding = tracker && whois
    ? bindLine({ accountTag: () => c.network.cap.isEnabled('account-tag'), tracker, whois, log }, event)
    : { unconfirmed: 'rekick was not connected' };
  state.handling = state.handling.then(async () => {
    try {
      const bound = await binding;
      const user: Identity = { source: 'irc', id: bound.account, display: event.nick };
      if (bound.unconfirmed) user.unconfirmed = bound.unconfirmed;
      const origin: Origin = isPrivate ? { adapter: 'irc', room: event.nick, private: true } : { adapter: 'irc', room: event.target };
      if (isPrivate && bound.account) origin.account = bound.account;
      const message: ChatMessage = { origin, user, text, receivedAt };
      await handler(message);
    } catch (err) {
      log.error({ err, nick: event.nick }, 'handling an IRC line failed');
    }
  });
}
