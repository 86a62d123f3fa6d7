/**
 * A lab fleet (simulated builders over real SSH, the hub stand-in over HTTPS) with rekick on it in this process, no
 * chat adapter, as the lab-* tests set them up: `edit` changes the lab's config file before rekick loads it (shorter
 * timeouts, fewer retries), and every executor event goes into `events`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { renderEvent } from '../../../src/present/event-lines';
import { loadConfig } from '../../../src/config/load';
import { startLabPeers, type LabPeers } from '../../../lab/run-lab';
import { createRekick, type Rekick } from '../../../src/main';
import type { ExecutorEvent } from '../../../src/model';

/** The operator at the lab console, and where they type. */
export const by = { source: 'console' as const, id: 'operator', display: 'operator' };
export const origin = { adapter: 'console', room: '#lab' };

export interface LabRekick {
  peers: LabPeers;
  rekick: Rekick;
}

export async function startLabRekick(
  lab: Parameters<typeof startLabPeers>[0],
  options: { events: ExecutorEvent[]; edit?: (raw: Record<string, unknown>) => void },
): Promise<LabRekick> {
  const peers = await startLabPeers(lab);
  let rekick: Rekick | undefined;
  try {
    if (options.edit) {
      const raw = parse(readFileSync(peers.configPath, 'utf8')) as Record<string, unknown>;
      options.edit(raw);
      writeFileSync(peers.configPath, stringify(raw));
    }
    rekick = await createRekick({ config: loadConfig(peers.configPath, { env: {} }), log: pino({ level: 'silent' }), chat: { irc: false, slack: false } });
    rekick.executor.on((e) => options.events.push(e));
    await rekick.start();
    return { peers, rekick };
  } catch (err) {
    await stopLabRekick({ peers, rekick });
    throw err;
  }
}

/** Stops rekick, then the lab (either may be missing: a start that failed). */
export async function stopLabRekick(lab: Partial<LabRekick>): Promise<void> {
  await lab.rekick?.stop();
  await lab.peers?.stop();
}

/** What chat was told of one job, line by line. */
export function jobLines(events: readonly ExecutorEvent[], jobId: string): string[] {
  return events.filter((e) => 'job' in e && e.job.id === jobId).flatMap(renderEvent);
}
