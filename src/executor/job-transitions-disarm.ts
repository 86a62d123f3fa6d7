/**
 * The two changes disarming makes to a job, applied by the job's transitions (job-transitions.ts) on their copy:
 * what a job ending now needs disarmed, and a retry re-arming the installer it disarmed.
 */
import type { HostConfig } from '../config/schema';
import { STEP_NAMES, type Job, type StepName } from '../model';
import { disarmNeeded, rearms } from '../steps/disarm-installer';

const STAGE = STEP_NAMES.indexOf('stage-installer');

/**
 * Records, on a job being ended as cancelled or failed, what disarming it needs: `pending` (to be written with that
 * state, then finished by InstallerDisarms.finish), or a virt guest's `vm-gone` at once. Returns whether a disarm is pending.
 */
export function markDisarm(job: Job, host: HostConfig | undefined, at = new Date().toISOString()): boolean {
  const needed = host ? disarmNeeded(job, host) : undefined;
  if (needed === 'installer') {
    job.disarm = { outcome: 'pending', at };
    return true;
  }
  if (needed === 'vm-gone') {
    const finished = job.steps[STAGE]!.status === 'succeeded';
    job.disarm = { outcome: 'vm-gone', at, detail: finished ? 'destroyed and undefined at [3/8] stage-installer' : 'stage-installer did not finish' };
  }
  return false;
}

/**
 * `!retry` of a failed job whose installer was disarmed (or found not armed: either way rekick reached the old system
 * and left it unarmed) resumes from stage-installer, which arms it again: resuming at reinstall or wait-ssh would
 * reboot into the old system, or wait for an install that never comes. The steps from there to the failed one start
 * afresh (their scratch data dropped), and so does what wait-ssh recorded of a host that came back (a key accepted,
 * a proof): the re-staged install brings a new key, which a pin of the attempt before would refuse. The old system
 * (job.before) stays recorded. After a failed disarm the host's state is not known (it may be installing): the retry
 * resumes from the failed step, as always. The disarm record is cleared: it described the job's end.
 */
export function rearmOnRetry(job: Job): void {
  if (rearms(job)) {
    const rewound = new Set<StepName>();
    for (let i = STAGE; i <= job.current; i++) {
      const s = job.steps[i]!;
      if (s.status === 'skipped') continue;
      s.status = 'pending';
      s.error = undefined;
      rewound.add(s.name);
    }
    for (const key of Object.keys(job.data)) if (rewound.has(key.split('.')[0] as StepName)) delete job.data[key];
    job.hostKey = undefined;
    job.proof = undefined;
    job.current = STAGE;
  }
  job.disarm = undefined;
}
