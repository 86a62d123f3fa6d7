import { describe, expect, it } from 'vitest';
import { kevin, stranger } from '../fakes/fake-executor';
import { createChatRig } from '../fakes/fake-chat';
import { parseFraction } from '../../commands/rolling';
import type { RollingApi, RollingStartOptions } from '../../commands/types';
import type { RequestContext } from '../../src/executor/types';

function fakeRolling() {
  const calls: Array<[string, RollingStartOptions | RequestContext | undefined]> = [];
  const api: RollingApi = {
    async start(o) {
      calls.push(['start', o]);
      return `rolling run started: ${o.group ?? 'fleet'} at ${o.fraction ?? 'default'}`;
    },
    async pause(c) {
      calls.push(['pause', c]);
      return 'rolling run paused';
    },
    async resume(c) {
      calls.push(['resume', c]);
    },
    async stop(c) {
      calls.push(['stop', c]);
      return 'rolling run stopped';
    },
    status: () => ['rolling run r1: running, 3/10 done', '  in flight: buildarm-02'],
  };
  return { api, calls };
}

describe('!rolling', () => {
  it.each<[string, number]>([
    ['0.25', 0.25],
    ['.5', 0.5],
    ['25%', 0.25],
    ['1', 1],
  ])('fraction %s', (w, n) => {
    expect(parseFraction(w)).toBe(n);
  });

  it.each(['0', '1.5', '200%', 'abc', '-0.1'])('refuses fraction %s', (w) => {
    expect(() => parseFraction(w)).toThrow(/expected a fraction/);
  });

  it('start passes fraction, group and --continuous; pause/resume/stop go through', async () => {
    const { api, calls } = fakeRolling();
    const rig = await createChatRig({ rolling: api });
    expect(await rig.line(kevin, '!rolling start 25% group:arm --continuous')).toEqual(['rolling run started: arm at 0.25']);
    expect(calls[0]).toEqual(['start', { by: kevin, origin: { adapter: 'irc', room: '#builders' }, fraction: 0.25, group: 'arm', continuous: true }]);
    expect(await rig.line(kevin, '!rolling pause')).toEqual(['rolling run paused']);
    expect(await rig.line(kevin, '!rolling resume')).toEqual([]);
    expect(await rig.line(kevin, '!rolling stop')).toEqual(['rolling run stopped']);
    expect(calls.map((c) => c[0])).toEqual(['start', 'pause', 'resume', 'stop']);
  });

  it('status is for anyone; control is for operators', async () => {
    const { api, calls } = fakeRolling();
    const rig = await createChatRig({ rolling: api });
    expect(await rig.line(stranger, '!rolling status')).toEqual(['rolling run r1: running, 3/10 done\n  in flight: buildarm-02']);
    expect(await rig.line(stranger, '!rolling')).toHaveLength(1);
    expect(await rig.line(stranger, '!rolling pause')).toEqual([expect.stringMatching(/needs the operator role/)]);
    expect(calls).toEqual([]);
  });

  it('refuses an unknown group before asking the scheduler', async () => {
    const { api, calls } = fakeRolling();
    const rig = await createChatRig({ rolling: api });
    expect(await rig.line(kevin, '!rolling start group:armm')).toEqual([expect.stringMatching(/unknown group: armm — did you mean group:arm\?; no run started/)]);
    expect(await rig.line(kevin, '!rolling sideways')).toEqual([expect.stringMatching(/unknown rolling action "sideways" — usage: !rolling start/)]);
    expect(calls).toEqual([]);
  });
});
