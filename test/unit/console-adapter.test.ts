import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { createConsoleAdapter } from '../../src/chat/console';
import { createNotifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import type { ChatMessage } from '../../src/chat/chat-adapter';
import { FakeExecutor } from '../fakes/fake-executor';
import { until } from '../support/until';

function collect(stream: PassThrough): () => string[] {
  let buf = '';
  stream.on('data', (d: Buffer) => (buf += d.toString()));
  return () => buf.split('\n').slice(0, -1);
}

describe('console adapter', () => {
  it('turns each input line into a #lab channel line from console:operator, in order, and ends at EOF', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const seen: ChatMessage[] = [];
    let ended = false;
    const done = new Promise<void>((resolve) => {
      const adapter = createConsoleAdapter({
        input,
        output,
        display: 'alice',
        onEnd: () => {
          ended = true;
          resolve();
        },
      });
      void adapter.start(async (m) => {
        await new Promise((r) => setTimeout(r, m.text === '!first' ? 20 : 0));
        seen.push(m);
      });
    });
    input.write('!first\n\n  \n!second\r\n!thi');
    input.end('rd\n');
    await done;
    expect(ended).toBe(true);
    expect(seen.map((m) => m.text)).toEqual(['!first', '!second', '!third']);
    expect(seen[0]).toEqual({ origin: { adapter: 'console', room: '#lab' }, user: { source: 'console', id: 'operator', display: 'alice' }, text: '!first', receivedAt: expect.any(Date) });
  });

  it('a line waiting behind a slow one carries the time it was typed, not when its turn came (!approve all counts from then)', async () => {
    const input = new PassThrough();
    const seen: ChatMessage[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const adapter = createConsoleAdapter({ input, output: new PassThrough() });
    await adapter.start(async (m) => {
      if (m.text === '!first') await held;
      seen.push(m);
    });
    input.write('!first\n!approve all\n');
    await new Promise((r) => setImmediate(r)); // both lines read
    const typedBy = Date.now();
    await until(() => Date.now() > typedBy, 'the clock to move on', 5000);
    release();
    await until(() => seen.length === 2, 'both lines handled', 5000);
    expect(seen[1]!.text).toBe('!approve all');
    expect(seen[1]!.receivedAt!.getTime()).toBeLessThanOrEqual(typedBy);
    await adapter.stop();
  });

  it('prints what the channel would see, one line per line', async () => {
    const output = new PassThrough();
    const lines = collect(output);
    const adapter = createConsoleAdapter({ input: new PassThrough(), output });
    await adapter.send({ adapter: 'console', room: '#lab' }, { text: 'a\nb', kind: 'reply' });
    expect(lines()).toEqual(['a', 'b']);
    expect(adapter.noticeRooms()).toEqual([{ adapter: 'console', room: '#lab' }]);
  });

  it('a lab session through router and notifier: the operator holds every role, each line printed once', async () => {
    const executor = await FakeExecutor.create();
    const input = new PassThrough();
    const output = new PassThrough();
    const lines = collect(output);
    const log = pino({ level: 'silent' });
    let finished!: () => void;
    const ended = new Promise<void>((r) => (finished = r));
    const adapter = createConsoleAdapter({ input, output, display: 'alice', onEnd: () => finished() });
    const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(executor.config.roles), log, audit: () => undefined, adapters: [adapter] });
    const notifier = createNotifier({ executor, adapters: [adapter], log });
    await adapter.start((m) => router.handle(m));
    expect(adapter.isReady()).toBe(true);
    input.end('!whoami\n!reinstall buildarm-03\n!reinstall buildarm-03\n');
    await ended;
    await notifier.flush();
    expect(lines()).toEqual([
      'you are alice (console:operator): roles operator, approver',
      'buildarm-03 queued for reinstall by alice (job job-1)',
      '!reinstall refused: buildarm-03 is already in job job-1; nothing queued',
    ]);
    expect(adapter.isReady()).toBe(false);
    notifier.stop();
  });
});
