/**
 * A chat adapter: one transport (IRC, Slack, the lab console). It is the front door: it decides which of its
 * medium's lines are for rekick and hands each on as a ChatMessage carrying the plain command line (no parsing of
 * commands here), and sends OutgoingMessage to a room. It catches its own transport errors.
 */
import type { ExecutorEvent, Identity, Origin } from '../model';

export interface ChatMessage {
  origin: Origin;
  user: Identity;
  /** The command line, addressed to rekick and plain (any medium's formatting dropped); the leading `!` optional. */
  text: string;
  /** Slack slash command (`/rekick …`): a refusal goes back privately to the sender (ephemeralTo). */
  isSlashCommand?: boolean;
  /** A click on a button (Slack Approve/Deny): a refusal goes back privately to the clicker (ephemeralTo). */
  interactive?: boolean;
  /**
   * The job a clicked button was posted for: the command acts on that job only, never on a later job of the host.
   * `jobId` is absent for a button posted before rekick bound its buttons to a job: such a click is refused.
   */
  button?: { jobId?: string };
  /**
   * When the line reached rekick, set by the adapter as it arrives (IRC: before the WHOIS that binds its sender;
   * Slack: before the request is read and authorised; console: when typed), else by the router: `!approve all`
   * approves only jobs whose "ready" line had been handed to a chat by then.
   */
  receivedAt?: Date;
}

export interface OutgoingMessage {
  text: string;
  /** What kind of line it is: a direct reply, a job's progress, or a notice for every channel. */
  kind: 'reply' | 'progress' | 'notice';
  /** The event behind a progress line, so rich adapters (Slack) can render more than text. */
  event?: ExecutorEvent;
  /** Send privately to this user (e.g. a Slack ephemeral refusal). */
  ephemeralTo?: Identity;
}

export type MessageHandler = (message: ChatMessage) => void | Promise<void>;

/** How many lines a list (hosts, approval queue) may take in one reply before it is summarised or paged. */
export interface ReplyLines {
  /** In a channel: a longer list is summarised (counts, the status page, how to get the pages). */
  room: number;
  /** In a private message: a longer list is sent in pages of this many lines. */
  private: number;
}

/** When an adapter does not say: 10 lines in a channel, pages of 15 in a private message. */
export const DEFAULT_REPLY_LINES: ReplyLines = { room: 10, private: 15 };

export interface ChatAdapter {
  readonly name: string;
  /** How long a list may be here (default DEFAULT_REPLY_LINES; the console: all of it). */
  readonly replyLines?: ReplyLines;
  start(onMessage: MessageHandler): Promise<void>;
  stop(reason?: string): Promise<void>;
  send(target: Origin, message: OutgoingMessage): Promise<void>;
  /** Rooms where notices go (configured channels). */
  noticeRooms(): Origin[];
  /** Whether the adapter is connected (for /readyz). */
  isReady(): boolean;
}
