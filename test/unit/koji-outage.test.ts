import { describe, expect, it } from 'vitest';
import { OutageTracker, type KojiOutageEvent } from '../../src/koji/outage';

describe('outage reporting', () => {
  it('says down once after consecutive failures and up once when the hub answers', () => {
    const events: KojiOutageEvent[] = [];
    const t = new OutageTracker((e) => events.push(e), 2);
    t.failed(new Error('ECONNREFUSED'));
    t.answered(); // a blip
    expect(events).toEqual([]);
    for (let i = 0; i < 10; i++) t.failed(new Error('ECONNREFUSED'));
    expect(events.map((e) => e.state)).toEqual(['down']);
    expect(t.isDown).toBe(true);
    t.answered();
    t.answered();
    expect(events.map((e) => e.state)).toEqual(['down', 'up']);
    expect(events[1]!.since).toBe(events[0]!.at);
  });

  it('a throwing listener is reported, not thrown into the call', () => {
    const seen: unknown[] = [];
    const t = new OutageTracker(() => {
      throw new Error('chat is down too');
    }, 1, (err) => seen.push(err));
    expect(() => t.failed(new Error('x'))).not.toThrow();
    expect((seen[0] as Error).message).toBe('chat is down too');
  });
});
