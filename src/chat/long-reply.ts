/** The room a chat message's reply goes to (its adapter's reply lines, channel or private), for long lists. */
import type { ListRoom } from '../present/list-reply';
import { DEFAULT_REPLY_LINES, type ChatAdapter, type ChatMessage } from './chat-adapter';

/** The room of a chat message: its adapter's reply lines, channel or private. */
export function listRoomFor(message: ChatMessage, adapters: readonly ChatAdapter[] | undefined, botName: string, statusUrl?: string): ListRoom {
  const limits = adapters?.find((a) => a.name === message.origin.adapter)?.replyLines ?? DEFAULT_REPLY_LINES;
  const isPrivate = Boolean(message.origin.private);
  return { lines: isPrivate ? limits.private : limits.room, private: isPrivate, statusUrl, botName };
}
