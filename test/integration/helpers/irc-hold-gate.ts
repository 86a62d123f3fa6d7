/**
 * A TCP proxy in front of the IRC server for the bot: lines the bot writes that match the held pattern (e.g. its
 * WHOIS) are kept back until release(), every other line passes at once. Lets a test decide what the server
 * knows when it reads the bot's WHOIS: a nick that changes hands before the server answers, deterministically.
 */
import type { Socket } from 'node:net';
import { startTcpProxy } from './tcp-proxy';

export interface HoldGate {
  port: number;
  /** Keeps back the bot's lines matching `pattern` from now on (until release). */
  hold(pattern: RegExp): void;
  /** Lines kept back so far. */
  held(): string[];
  /** Sends the kept lines on, in order, and stops holding. */
  release(): void;
  close(): Promise<void>;
}

export async function startHoldGate(target: { host: string; port: number }): Promise<HoldGate> {
  let pattern: RegExp | undefined;
  let kept: string[] = [];
  let upstreamOf: Socket | undefined;
  const proxy = await startTcpProxy(target, {
    forward(downstream, upstream) {
      upstreamOf = upstream;
      let partial = '';
      downstream.on('data', (chunk: Buffer) => {
        partial += chunk.toString('utf8');
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          if (pattern?.test(line.replace(/\r$/, ''))) kept.push(`${line}\n`);
          else upstream.write(`${line}\n`);
        }
      });
    },
  });
  return {
    port: proxy.port,
    hold(p) {
      pattern = p;
    },
    held: () => kept.map((l) => l.trimEnd()),
    release() {
      pattern = undefined;
      const lines = kept;
      kept = [];
      for (const l of lines) upstreamOf?.write(l);
    },
    close: () => proxy.close(),
  };
}
