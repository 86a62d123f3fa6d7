import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createNotifier } from '../../src/chat/notifier';
import type { ChatAdapter, OutgoingMessage } from '../../src/chat/chat-adapter';
import { FakeChat } from '../fakes/fake-chat';
import { FakeExecutor } from '../fakes/fake-executor';
import type { Origin } from '../../src/model';

async function setup(adapters: ChatAdapter[]) {
  const executor = await FakeExecutor.create();
  const errors: unknown[] = [];
  const log = pino({ level: 'error' }, { write: (s: string) => errors.push(JSON.parse(s)) });
  const notifier = createNotifier({ executor, adapters, log });
  return { executor, notifier, errors };
}

describe('notifier', () => {
  it('sends each event to the origin (with its thread) and each notice room once', async () => {
    const irc = new FakeChat('irc', ['#builders', '#fedora-admin']);
    const slack = new FakeChat('slack', ['C0BUILDERS']);
    const { executor, notifier } = await setup([irc, slack]);
    const job = await executor.seed('buildarm-03', 'running', { origin: { adapter: 'slack', room: 'C0BUILDERS', thread: '171.5' } });
    executor.emit({ type: 'step-started', job, step: 'drain', index: 1 });
    await notifier.flush();
    expect(slack.sent.map((s) => s.target)).toEqual([{ adapter: 'slack', room: 'C0BUILDERS', thread: '171.5' }]);
    expect(irc.sent.map((s) => s.target.room)).toEqual(['#builders', '#fedora-admin']);
    const msg: OutgoingMessage = slack.sent[0]!.message;
    expect(msg).toEqual({ text: 'buildarm-03 [2/8] drain …', kind: 'progress', event: expect.objectContaining({ type: 'step-started' }) });
  });

  it('a private origin gets the line, and the channels too', async () => {
    const irc = new FakeChat('irc', ['#builders']);
    const { executor, notifier } = await setup([irc]);
    const job = await executor.seed('buildarm-03', 'running', { origin: { adapter: 'irc', room: 'kevin', private: true } });
    executor.emit({ type: 'awaiting-approval', job });
    await notifier.flush();
    expect(irc.sent.map((s) => s.target.room)).toEqual(['kevin', '#builders']);
  });

  it('an origin from an adapter that is not here (cli, rolling) goes only to notice rooms', async () => {
    const irc = new FakeChat('irc', ['#builders']);
    const { executor, notifier } = await setup([irc]);
    const job = await executor.seed('buildarm-03', 'running', { origin: { adapter: 'cli', room: 'stdout' } });
    executor.emit({ type: 'enabled', job });
    await notifier.flush();
    expect(irc.sent).toEqual([{ target: { adapter: 'irc', room: '#builders' }, message: expect.objectContaining({ text: 'buildarm-03 is enabled in Koji — reinstall done (job job-1)' }) }]);
  });

  it('notices are kind notice and go to every notice room', async () => {
    const irc = new FakeChat('irc', ['#builders']);
    const slack = new FakeChat('slack', ['C1', 'C2']);
    const { executor, notifier } = await setup([irc, slack]);
    executor.emit({ type: 'notice', level: 'warn', text: 'Koji hub unreachable' });
    await notifier.flush();
    expect([...irc.sent, ...slack.sent].map((s) => [s.target.room, s.message.kind, s.message.text])).toEqual([
      ['#builders', 'notice', 'warning: Koji hub unreachable'],
      ['C1', 'notice', 'warning: Koji hub unreachable'],
      ['C2', 'notice', 'warning: Koji hub unreachable'],
    ]);
  });

  it('a failing adapter is logged, never thrown, and the others still get the line', async () => {
    const broken = new FakeChat('irc', ['#builders']);
    broken.failSends = true;
    const weird: ChatAdapter = Object.assign(new FakeChat('weird'), {
      noticeRooms(): Origin[] {
        throw new Error('no rooms');
      },
    });
    const slack = new FakeChat('slack', ['C1']);
    const { executor, notifier, errors } = await setup([broken, weird, slack]);
    const job = await executor.seed('buildarm-03', 'running');
    expect(() => executor.emit({ type: 'step-started', job, step: 'disable', index: 0 })).not.toThrow();
    await notifier.flush();
    expect(slack.texts()).toEqual(['buildarm-03 [1/8] disable …']);
    expect(errors).toEqual([expect.objectContaining({ adapter: 'irc', msg: 'could not send to chat' })]);
  });

  it('keeps the order of events per adapter even when sends are slow', async () => {
    const slow = new FakeChat('irc', ['#builders']);
    const send = slow.send.bind(slow);
    let n = 0;
    slow.send = async (t, m) => {
      await new Promise((r) => setTimeout(r, n++ === 0 ? 30 : 0));
      return send(t, m);
    };
    const { executor, notifier } = await setup([slow]);
    const job = await executor.seed('buildarm-03', 'running');
    executor.emit({ type: 'step-started', job, step: 'disable', index: 0 });
    executor.emit({ type: 'step-succeeded', job, step: 'disable', index: 0, durationMs: 10 });
    await notifier.flush();
    expect(slow.texts()).toEqual(['buildarm-03 [1/8] disable …', 'buildarm-03 [1/8] disable ✓ 10ms']);
  });

  it('stop() unsubscribes', async () => {
    const irc = new FakeChat('irc', ['#builders']);
    const { executor, notifier } = await setup([irc]);
    notifier.stop();
    executor.emit({ type: 'notice', level: 'info', text: 'x' });
    await notifier.flush();
    expect(irc.sent).toEqual([]);
  });
});
