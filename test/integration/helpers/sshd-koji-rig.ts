/**
 * The peers of a real-sshd pipeline test: a test PKI, the Koji hub stand-in over HTTPS (user `rekick` with host
 * and admin permissions, the builders added), a fleet of real sshds (known_hosts written) and a `local` directory
 * for the files post-install copies; and one rekick on them: the real Executor, drivers, Koji client and SSH
 * connector on a lowdb file, its events collected.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../../src/config/schema';
import { createDrivers } from '../../../src/drivers';
import { Executor } from '../../../src/executor/executor';
import { createKojiClient } from '../../../src/koji/client';
import { startHubStandin, type HubStandin } from '../../../lab/koji-hub/hub-standin';
import { createKojiTestPki, type KojiTestPki } from '../../../lab/pki/koji-pki';
import { sshConnectorFor } from '../../../src/ssh/ssh-connector';
import { createSteps } from '../../../src/steps';
import type { Step } from '../../../src/steps/types';
import type { ExecutorEvent } from '../../../src/model';
import { LowdbStore } from '../../../store/lowdb-store';
import { startSshdFleet, type SimHostSpec, type SshdFleet } from './sshd';

export interface SshdKojiPeers {
  pki: KojiTestPki;
  hub: HubStandin;
  fleet: SshdFleet;
  /** A directory for local files (post-install sources and templates). */
  local: string;
  stop(): Promise<void>;
}

/** Starts the peers; `builders` are the hosts Koji knows (`buildvm*` as x86_64, the others aarch64). */
export async function startSshdKojiPeers(specs: SimHostSpec[], builders: string[]): Promise<SshdKojiPeers> {
  const pki = await createKojiTestPki({ users: ['rekick'] });
  const hub = await startHubStandin({ tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem } });
  hub.addUser('rekick', ['host', 'admin']);
  for (const n of builders) hub.addHost(n, { arches: n.startsWith('buildvm') ? 'x86_64' : 'aarch64' });
  const fleet = await startSshdFleet(specs);
  fleet.writeKnownHosts();
  const local = path.join(fleet.dir, 'local');
  mkdirSync(path.join(local, 'pki'), { recursive: true });
  return {
    pki,
    hub,
    fleet,
    local,
    async stop() {
      await hub.stop();
      await fleet.stop();
      rmSync(pki.dir, { recursive: true, force: true });
    },
  };
}

export interface PipelineRig {
  executor: Executor;
  store: LowdbStore;
  events: ExecutorEvent[];
  close(): Promise<void>;
}

/** One rekick on the peers: the real Executor, steps (or `steps`), drivers, Koji client and SSH connector. */
export async function startPipelineRig(config: Config, storeFile: string, log: Logger, steps: Step[] = createSteps()): Promise<PipelineRig> {
  const store = new LowdbStore(storeFile, { log: log.child({ component: 'store' }) });
  await store.open();
  const koji = createKojiClient({ ...config.koji, retry: { baseMs: 20, maxMs: 100, maxElapsedMs: 10_000 }, log: log.child({ component: 'koji' }) });
  const executor = new Executor({
    config,
    store,
    koji,
    connector: sshConnectorFor(config.ssh, log.child({ component: 'ssh' })),
    drivers: createDrivers(),
    steps,
    log: log.child({ component: 'executor' }),
  });
  const events: ExecutorEvent[] = [];
  executor.on((e) => events.push(e));
  return {
    executor,
    store,
    events,
    async close() {
      await executor.stop();
      await koji.close().catch(() => undefined);
      await store.close();
    },
  };
}
