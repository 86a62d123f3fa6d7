/** Eight scripted steps for executor tests: each records its runs and behaves as the test says. */
import { StepError } from '../../src/errors';
import { abortableSleep } from '../../src/util/sleep';
import type { Step, StepContext } from '../../src/steps/types';
import { STEP_NAMES, type StepName } from '../../src/model';

export type Behaviour =
  | { kind: 'ok'; delayMs?: number }
  | { kind: 'fail'; message: string; retryable?: boolean; times?: number; tail?: string[] }
  | { kind: 'hang' };

export class ScriptedSteps {
  runs: Array<{ step: StepName; host: string; attempt: number }> = [];
  behaviour = new Map<StepName, Behaviour>();

  steps(): Step[] {
    return STEP_NAMES.map((name) => ({
      name,
      timeoutMs: (c) => (name === 'drain' ? c.timeouts.drain : name === 'wait-ssh' ? c.timeouts.sshReturn : c.timeouts.step),
      retry: true,
      abortable: name === 'drain' || name === 'wait-ssh',
      appliesTo: (h) => h.kind !== 'virthost' || !['disable', 'drain', 'enable'].includes(name),
      run: (ctx: StepContext) => this.run(name, ctx),
    }));
  }

  private async run(name: StepName, ctx: StepContext): Promise<void> {
    const rec = ctx.job.steps.find((s) => s.name === name)!;
    this.runs.push({ step: name, host: ctx.host.name, attempt: rec.attempts });
    const b = this.behaviour.get(name) ?? { kind: 'ok' };
    if (b.kind === 'ok') {
      if (b.delayMs) await abortableSleep(b.delayMs, ctx.signal);
      if (name === 'disable') ctx.job.kojiComment = `rekick: job ${ctx.job.id}`;
      return;
    }
    if (b.kind === 'hang') return abortableSleep(1e9, ctx.signal);
    if (b.times !== undefined) {
      if (b.times <= 0) return;
      b.times -= 1;
    }
    for (const l of b.tail ?? []) ctx.output(l);
    throw new StepError('E_SCRIPTED', b.message, { retryable: b.retryable, outputTail: b.tail });
  }
}
