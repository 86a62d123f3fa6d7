/**
 * Child process of store-kill.test.ts: opens the lowdb store at argv[2] and saves jobs (and audit entries) in a
 * tight loop, printing `acked <jobId> <state>` after each save resolves, until it is killed.
 */
import pino from 'pino';
import { LowdbStore } from '../../../store/lowdb-store';
import { STEP_NAMES, type Job, type JobState } from '../../../src/model';

const [file, run] = [process.argv[2], process.argv[3] ?? '0'];
if (!file) throw new Error('usage: store-writer-child.ts FILE RUN');

const store = new LowdbStore(file, { log: pino({ level: 'silent' }), keepFinishedPerHost: 5, maxAudit: 500 });
await store.open();
process.stdout.write('ready\n');

const states: JobState[] = ['queued', 'running', 'succeeded', 'failed'];
for (let i = 0; ; i++) {
  const now = new Date().toISOString();
  const job: Job = {
    id: `j-${run}-${i}`,
    host: `buildarm-${i % 40}`,
    state: states[i % states.length]!,
    createdAt: now,
    updatedAt: now,
    requestedBy: { source: 'cli', id: 'root', display: 'root' },
    origin: { adapter: 'cli', room: 'cli' },
    options: {},
    steps: STEP_NAMES.map((name) => ({ name, status: 'pending', attempts: 0 })),
    current: 0,
    data: { run, i, padding: 'x'.repeat(i % 300) },
  };
  const audit = store.appendAudit({ at: now, who: job.requestedBy, action: 'reinstall', host: job.host, jobId: job.id, outcome: 'ok' });
  await store.saveJob(job);
  await audit;
  process.stdout.write(`acked ${job.id} ${job.state}\n`);
}
