/** The read-only JSON views (/api/v1/...): hosts, jobs, one job, the rolling run. Shapes are the store's. */
import type { Store } from '../../store/store';
import type { Config } from '../config/schema';
import type { KojiHostStates } from '../koji/host-states';
import { STEP_NAMES, type Job } from '../model';

export interface HostView {
  name: string;
  arch: string;
  kind: string;
  groups: string[];
  koji: { enabled: boolean; comment: string | null } | null;
  job: { id: string; state: string; step: string | null; progress: string | null } | null;
  lastReinstalledAt: string | null;
  lastOutcome: string | null;
}

export function hostViews(config: Config, store: Store, hostStates?: KojiHostStates): HostView[] {
  return config.hosts.map((h) => {
    const job = store.activeJob(h.name);
    const rec = store.getHost(h.name);
    const koji = hostStates?.get(h.name);
    return {
      name: h.name,
      arch: h.arch,
      kind: h.kind,
      groups: h.groups,
      koji: koji ? { enabled: koji.enabled, comment: koji.comment } : null,
      job: job ? { id: job.id, state: job.state, step: currentStep(job), progress: job.steps[job.current]?.progress ?? null } : null,
      lastReinstalledAt: rec?.lastReinstalledAt ?? null,
      lastOutcome: rec?.lastOutcome ?? null,
    };
  });
}

export function currentStep(job: Job): string | null {
  if (job.state === 'awaiting-approval') return 'awaiting approval';
  return STEP_NAMES[job.current] ?? null;
}
