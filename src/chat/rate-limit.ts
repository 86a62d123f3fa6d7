/**
 * Per-identity command rate limits: a token bucket per identity (`burst` commands at once, then `perMinute`),
 * more room for operators and approvers. The first command over the limit gets one notice, later ones nothing
 * until a command is allowed again. Identities that have been quiet are forgotten first when the map is full, so
 * memory is bounded however many identities write. The lab console (and the CLI) are not limited.
 */
import type { ChatMessage } from './chat-adapter';
import type { Roles } from './roles';

/** The code of the rate-limit notice (not audited: limited lines are counted, rekick_chat_rate_limited_total). */
export const RATE_LIMITED = 'E_RATE_LIMITED';

export interface RateLimitConfig {
  /** Commands a minute for someone without a role. */
  perMinute: number;
  /** Commands at once (after a quiet moment) for someone without a role. */
  burst: number;
  /** Commands a minute for operators and approvers. */
  privilegedPerMinute: number;
  /** Commands at once for operators and approvers. */
  privilegedBurst: number;
}

export type RateDecision =
  | { allowed: true }
  /** `notify`: the first refused command since the last allowed one (say so once); `waitMs`: until one is allowed. */
  | { allowed: false; notify: boolean; waitMs: number; perMinute: number };

interface Bucket {
  tokens: number;
  last: number;
  privileged: boolean;
  /** The notice was sent since the last allowed command. */
  warned: boolean;
}

export interface RateLimiterOptions extends RateLimitConfig {
  /** Identities remembered at most (default 10,000); the least recently seen are forgotten first. */
  maxIdentities?: number;
  now?: () => number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxIdentities: number;
  private readonly now: () => number;

  constructor(private readonly config: RateLimiterOptions) {
    for (const key of ['perMinute', 'burst', 'privilegedPerMinute', 'privilegedBurst'] as const) {
      if (!(config[key] > 0)) throw new RangeError(`rate limit ${key} must be above 0, got ${config[key]}`);
    }
    this.maxIdentities = Math.max(1, config.maxIdentities ?? 10_000);
    this.now = config.now ?? (() => Date.now());
  }

  /** Identities remembered (tests: the map stays bounded). */
  get size(): number {
    return this.buckets.size;
  }

  private limits(privileged: boolean): { perMinute: number; burst: number } {
    return privileged
      ? { perMinute: this.config.privilegedPerMinute, burst: this.config.privilegedBurst }
      : { perMinute: this.config.perMinute, burst: this.config.burst };
  }

  /** One command from `key`: allowed (a token taken) or not. */
  take(key: string, privileged: boolean): RateDecision {
    const t = this.now();
    const { perMinute, burst } = this.limits(privileged);
    let b = this.buckets.get(key);
    if (b) {
      // Most recently seen last: the map's order is the eviction order.
      this.buckets.delete(key);
      if (b.privileged !== privileged) b = { ...b, privileged, tokens: Math.min(b.tokens, burst) };
      b.tokens = Math.min(burst, b.tokens + ((t - b.last) / 60_000) * perMinute);
      b.last = t;
    } else {
      b = { tokens: burst, last: t, privileged, warned: false };
    }
    this.buckets.set(key, b);
    this.evict();
    // (Refills add fractions: allow for rounding, so a bucket that is full on paper is full.)
    if (b.tokens >= 1 - 1e-9) {
      b.tokens = Math.max(0, b.tokens - 1);
      b.warned = false;
      return { allowed: true };
    }
    const notify = !b.warned;
    b.warned = true;
    return { allowed: false, notify, waitMs: Math.max(1, Math.ceil(((1 - b.tokens) / perMinute) * 60_000)), perMinute };
  }

  private evict(): void {
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxIdentities) return;
      this.buckets.delete(key);
    }
  }
}

/** The notice for the first command over the limit. */
export function rateLimitNotice(who: string, d: { perMinute: number; waitMs: number }): string {
  const seconds = Math.max(1, Math.ceil(d.waitMs / 1000));
  const rate = Number.isInteger(d.perMinute) ? String(d.perMinute) : d.perMinute.toFixed(1);
  return `slow down, ${who}: at most ${rate} commands a minute; rekick ignores your commands for ${seconds}s`;
}

/**
 * The bucket a chat line counts against: the role key (`irc:ACCOUNT`, `slack:USERID`), or for an IRC user
 * without a services account the nick; undefined (not limited) for the lab console and the CLI.
 */
export function rateKey(message: ChatMessage, roles: Roles): string | undefined {
  const u = message.user;
  if (u.source === 'console' || u.source === 'cli') return undefined;
  return roles.key(u) ?? `${u.source}:nick:${u.display.toLowerCase()}`;
}

/** The router's view: one decision per chat line meant for rekick. */
export class CommandRateLimit {
  private readonly limiter: RateLimiter;

  constructor(
    config: RateLimitConfig,
    private readonly roles: Roles,
    options: { now?: () => number; maxIdentities?: number } = {},
  ) {
    this.limiter = new RateLimiter({ ...config, ...options });
  }

  /** Identities remembered (tests). */
  get size(): number {
    return this.limiter.size;
  }

  check(message: ChatMessage): RateDecision & { key?: string } {
    const key = rateKey(message, this.roles);
    if (key === undefined) return { allowed: true };
    return { ...this.limiter.take(key, this.roles.rolesOf(message.user).length > 0), key };
  }
}
