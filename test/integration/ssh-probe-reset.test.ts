/**
 * A host whose port accepts and then resets the connection (a machine going down mid-probe, a flapping sshd): the
 * probe reports the port open without SSH, and the reset is never an unhandled 'error' that kills rekick. (The
 * bug: the probe's socket had no error listener while known_hosts was read, and a reset then crashed the process.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from '../../lab/fleet/ssh-keys';
import { createSshConnector } from '../../src/ssh/ssh-connector';

const dir = mkdtempSync(path.join(tmpdir(), 'rekick-probe-reset-'));
let server: net.Server;
let port: number;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    setTimeout(() => socket.resetAndDestroy(), Math.random() * 3);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('probe against a port that resets connections', () => {
  it('reports port-open every time and never leaves a reset unhandled', async () => {
    const knownHosts = path.join(dir, 'known_hosts');
    writeFileSync(knownHosts, Array.from({ length: 2000 }, (_, i) => `other-${i} ${generateEd25519KeyPair().public}`).join('\n') + '\n');
    const connector = createSshConnector({
      user: 'root',
      privateKey: generateEd25519KeyPair().private,
      knownHostsPath: knownHosts,
      connectTimeoutMs: 2000,
      commandTimeoutMs: 2000,
      log: pino({ level: 'silent' }),
    });
    const target = { name: 'flapping', address: '127.0.0.1', port };
    for (let i = 0; i < 60; i++) {
      // touch known_hosts so that each probe reads it again (the window the reset used to fall into)
      if (i % 3 === 0) writeFileSync(knownHosts, `\n`, { flag: 'a' });
      expect(await connector.probe(target, { hostKeyMode: 'strict', timeoutMs: 1000 })).toBe('port-open');
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(uncaught).toEqual([]);
  });
});
