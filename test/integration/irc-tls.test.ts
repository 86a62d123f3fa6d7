/**
 * IRC over TLS against a real inspircd (ssl_gnutls, self-signed certificate): the certificate is verified by
 * default (an untrusted one is refused), and with verification off the bot logs in with SASL over TLS.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrcAdapter, type IrcAdapter } from '../../src/chat/irc/adapter';
import { connectIrcUser, startIrcNetwork, type IrcNetwork, type IrcUser } from './helpers/ircd';

const CHANNEL = '#builders';
let net: IrcNetwork;
const cleanups: Array<() => Promise<unknown>> = [];

function bot(rejectUnauthorized: boolean): IrcAdapter {
  return createIrcAdapter({
    config: { host: net.host, port: net.tlsPort!, tls: true, nick: rejectUnauthorized ? 'strict' : 'rekick', sasl: { account: 'rekick', password: 'bot-pw-3' }, channels: [CHANNEL], rejectUnauthorized },
    log: pino({ level: 'silent' }),
    startTimeoutMs: 3000,
    reconnect: { minMs: 500, maxMs: 500 },
  });
}

beforeAll(async () => {
  net = await startIrcNetwork({ accounts: [{ account: 'rekick', password: 'bot-pw-3' }], tls: true });
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await net?.stop();
});

describe('IRC over TLS', () => {
  it('refuses a server certificate it cannot verify (rejectUnauthorized, the default)', async () => {
    const strict = bot(true);
    cleanups.push(() => strict.stop());
    await strict.start(() => undefined);
    expect(strict.isReady()).toBe(false);
    expect(strict.stats().registrations).toBe(0);
    expect(strict.stats().failedAttempts).toBeGreaterThanOrEqual(1);
    expect(strict.stats().lastError).toMatch(/certificate/i);
    await strict.stop();
  });

  it('logs in with SASL over TLS when told not to verify', async () => {
    const b = bot(false);
    cleanups.push(() => b.stop());
    await b.start(() => undefined);
    expect(b.isReady()).toBe(true);
    const u: IrcUser = await connectIrcUser(net, { nick: 'watcher', channels: [CHANNEL] });
    cleanups.push(() => u.quit());
    await b.send({ adapter: 'irc', room: CHANNEL }, { kind: 'notice', text: 'over tls' });
    const line = await u.waitForLine((l) => l.message === 'over tls');
    expect(line.account).toBe('rekick');
  });
});
