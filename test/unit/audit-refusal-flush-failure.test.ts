/**
 * A refusal's lazy write (the refusal list's flush, which nobody awaits) that fails is a failed write like any
 * other: rekick says in chat that it cannot write its state file, tries again by itself, and says when it can
 * write again (E_STORE_READONLY in docs/troubleshooting.md), instead of refusing new work without a word.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Executor } from '../../src/executor/executor';
import type { Identity } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { ScriptedSteps } from '../fakes/fake-steps';
import { FakeKoji } from '../fakes/fake-koji';
import { testConfig } from '../fakes/test-config';
import { until } from '../support/until';

const eve: Identity = { source: 'irc', id: 'eve', display: 'eve' };

describe('a failed write of the refusal list', () => {
  it('is said in chat, tried again, and its end is said too', async () => {
    const store = new MemoryStore({ refusalFlushMs: 20 });
    await store.open();
    const log = pino({ level: 'silent' });
    const executor = new Executor({ config: testConfig(), store, koji: new FakeKoji(), connector: {} as never, drivers: {} as never, log, steps: new ScriptedSteps().steps(), storeRetryMs: 20 });
    const notices: string[] = [];
    executor.on((e) => {
      if (e.type === 'notice') notices.push(`${e.level} ${e.text}`);
    });
    store.failWrites('ENOSPC: no space left on device');
    await executor.audit({ who: eve, origin: { adapter: 'irc', room: '#builders' }, action: '!approve', outcome: 'refused', detail: 'needs the approver role' });
    await until(() => notices.length > 0, 'a notice of the failed write', 2_000);
    expect(store.writable).toBe(false);
    expect(notices).toEqual([expect.stringMatching(/^error rekick cannot write its state file \(ENOSPC: no space left on device\)/)]);
    store.failWrites();
    await until(() => notices.length > 1, 'the notice that writes work again', 2_000);
    expect(notices[1]).toMatch(/^info rekick can write its state file again/);
    expect(store.writable).toBe(true);
    await executor.stop();
    await store.close();
    expect(store.listAudit({ kind: 'refusals' })).toEqual([expect.objectContaining({ action: '!approve', who: eve })]);
  });
});
