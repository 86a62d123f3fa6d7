/**
 * The router: the front door's inside. Each adapter decides which lines are for rekick and hands over the
 * command line, de-formatted; the router tokenizes it, checks the role, parses and runs the command (with the
 * rate limit and the audit: router-turn.ts), and never throws.
 */
import type { ChatMessage } from './chat-adapter';
import { handleLine, routerDeps, type RouterDeps } from './router-turn';
import type { Reply, Router, RouterOptions } from './router-types';

export type { CommandRegistry, Reply, Router, RouterOptions } from './router-types';

export function createRouter(options: RouterOptions): Router {
  const deps = routerDeps(options);
  return {
    async handle(arrived: ChatMessage, given?: Reply): Promise<void> {
      const message: ChatMessage = arrived.receivedAt ? arrived : { ...arrived, receivedAt: deps.now() };
      await handleLine(deps, message, given ?? replyThroughAdapter(deps, message));
    },
  };
}

/** Replies through the adapter the message came from; a refusal to a slash command or a click goes privately. */
function replyThroughAdapter(deps: RouterDeps, message: ChatMessage): Reply {
  return async (text, opts) => {
    const adapter = deps.options.adapters?.find((a) => a.name === message.origin.adapter);
    if (!adapter) {
      deps.options.log.warn({ origin: message.origin }, 'no adapter to reply through');
      return;
    }
    await adapter.send(message.origin, {
      text,
      kind: 'reply',
      ephemeralTo: opts?.refusal && (message.isSlashCommand || message.interactive) ? message.user : undefined,
    });
  };
}
