/**
 * A fake ChatAdapter: `say()` plays a line from a user, `sent` keeps everything rekick sent (with its target),
 * `failSends` makes every send reject (to prove errors never escape).
 */
import type { ChatAdapter, ChatMessage, MessageHandler, OutgoingMessage } from '../../src/chat/chat-adapter';
import type { Identity, Origin } from '../../src/model';
import pino from 'pino';
import { commandRegistry } from '../../commands';
import type { HostsInfo, RollingApi } from '../../commands/types';
import { ircCommandLine } from '../../src/chat/irc/addressing';
import { createRoles } from '../../src/chat/roles';
import { slashCommand } from '../../src/chat/slack/addressing';
import { createRouter, type Router, type RouterOptions } from '../../src/chat/router';
import type { AuditEntry } from '../../src/model';
import { FakeExecutor } from './fake-executor';

export interface SentMessage {
  target: Origin;
  message: OutgoingMessage;
}

export class FakeChat implements ChatAdapter {
  readonly sent: SentMessage[] = [];
  failSends = false;
  private handler?: MessageHandler;

  constructor(
    readonly name = 'irc',
    private readonly notices: string[] = ['#builders'],
  ) {}

  async start(onMessage: MessageHandler): Promise<void> {
    this.handler = onMessage;
  }

  async stop(): Promise<void> {
    this.handler = undefined;
  }

  async send(target: Origin, message: OutgoingMessage): Promise<void> {
    if (this.failSends) throw new Error(`${this.name} is down`);
    this.sent.push({ target, message });
  }

  noticeRooms(): Origin[] {
    return this.notices.map((room) => ({ adapter: this.name, room }));
  }

  isReady(): boolean {
    return Boolean(this.handler);
  }

  /**
   * Plays a line from `user` in `room` (a private message when `room` is not a channel) through the front door
   * of a real adapter: IRC's addressing (`!cmd`, `rekick: cmd`, any private message; formatting dropped), or
   * Slack's slash command form; a line not for rekick is not handed on.
   */
  async say(user: Identity, text: string, room = '#builders', extra: Partial<ChatMessage> = {}): Promise<void> {
    if (!this.handler) throw new Error('adapter not started');
    const isPrivate = !room.startsWith('#') && !room.startsWith('C') ? true : undefined;
    const line = extra.isSlashCommand ? slashCommand(text) : ircCommandLine(text, ['rekick'], Boolean(isPrivate));
    if (line === undefined) return;
    await this.handler({ origin: { adapter: this.name, room, private: isPrivate }, user, text: line, ...extra });
  }

  /** The texts sent to a room, in order. */
  texts(room?: string): string[] {
    return this.sent.filter((s) => room === undefined || s.target.room === room).map((s) => s.message.text);
  }
}

// ---- a router wired to a FakeChat and a FakeExecutor, for command and router tests ----

export interface ChatRig {
  executor: FakeExecutor;
  chat: FakeChat;
  router: Router;
  audit: AuditEntry[];
  /** Sends a line as `user` and returns what rekick replied (texts, in order). */
  line(user: Identity, text: string, room?: string): Promise<string[]>;
}

export interface ChatRigOptions {
  rolling?: RollingApi;
  hostsInfo?: HostsInfo;
  now?: () => Date;
  /** More adapters beside the `irc` FakeChat, wired to the same router (e.g. a `slack` one). */
  adapters?: FakeChat[];
  /** Further router options (rate limits, …). */
  router?: Partial<Omit<RouterOptions, 'executor' | 'commands' | 'roles' | 'log' | 'audit' | 'adapters'>>;
}

export async function createChatRig(options: ChatRigOptions = {}): Promise<ChatRig> {
  const executor = await FakeExecutor.create();
  const chat = new FakeChat('irc');
  const adapters = [chat, ...(options.adapters ?? [])];
  const audit: AuditEntry[] = [];
  const router = createRouter({
    executor,
    commands: commandRegistry,
    roles: createRoles(executor.config.roles),
    log: pino({ level: 'silent' }),
    audit: (e) => {
      audit.push(e);
    },
    adapters,
    rolling: options.rolling,
    hostsInfo: options.hostsInfo,
    now: options.now,
    ...options.router,
  });
  for (const a of adapters) await a.start((m) => router.handle(m));
  return {
    executor,
    chat,
    router,
    audit,
    async line(user, text, room = '#builders') {
      const before = chat.sent.length;
      await chat.say(user, text, room);
      return chat.sent.slice(before).map((s) => s.message.text);
    },
  };
}
