/** The part of irc-framework 4.14 that rekick uses (the package ships no types). */
declare module 'irc-framework' {
  import { EventEmitter } from 'node:events';

  export interface ClientOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    /** SASL PLAIN credentials. */
    account?: { account: string; password: string };
    auto_reconnect?: boolean;
    auto_reconnect_max_retries?: number;
    ping_interval?: number;
    ping_timeout?: number;
    message_max_length?: number;
    enable_echomessage?: boolean;
    sasl_disconnect_on_fail?: boolean;
    encoding?: string;
    version?: string | null;
  }

  export interface MessageEvent {
    type: 'privmsg' | 'notice' | 'action';
    nick: string;
    ident: string;
    hostname: string;
    target: string;
    message: string;
    tags: Record<string, string>;
    /** The sender's services account (IRCv3 account-tag), absent when not logged in. */
    account?: string;
  }

  export interface WhoisEvent {
    nick: string;
    account?: string;
    error?: string;
  }

  export interface NetworkCaps {
    isEnabled(cap: string): boolean;
  }

  export class Client extends EventEmitter {
    constructor(options?: Partial<ClientOptions>);
    connect(options?: ClientOptions): void;
    readonly connected: boolean;
    user: { nick: string; username: string; host?: string };
    network: { cap: NetworkCaps; options: Record<string, unknown> };
    raw(...args: string[]): void;
    say(target: string, message: string): void;
    join(channel: string, key?: string): void;
    quit(message?: string): void;
    whois(nick: string, cb: (event: WhoisEvent) => void): void;
    requestCap(cap: string | string[]): void;
    caseCompare(a: string, b: string): boolean;
  }

  const IRC: { Client: typeof Client };
  export default IRC;
}
