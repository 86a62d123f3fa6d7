/**
 * SSH return: a real sshd is stopped (the builder reboots) and started again after a few seconds; the figure is
 * the time from sshd accepting connections (the bench's own TCP probe every 2 ms sees it first) to the first
 * post-install command running on the host (it writes the time), for rekick (waitForSsh, a login, then
 * runPostinstall over createSshConnector, as the wait-ssh and post-install steps do) and for Ansible
 * (`wait_for_connection` with its defaults, then the same command) on the same sshd, trial by trial.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { postinstallSchema, type Config, type HostConfig } from '../src/config/schema';
import { runPostinstall } from '../src/ssh/postinstall-runner';
import { createSshConnector } from '../src/ssh/ssh-connector';
import { waitForSsh } from '../src/ssh/wait-ssh';
import { canConnect, startSshdFleet, type SimHost } from '../test/integration/helpers/sshd';
import { runAnsiblePlaybook } from './ansible-run';
import { withDefaults } from './options';
import { note, report } from './report';
import { describeSamples, median } from './stats';

export interface SshReturnOptions {
  trials: number;
  /** How long sshd stays down, at random between the two (seconds). */
  downS: [number, number];
}

const NAME = 'buildarm-return';

export async function benchSshReturn(options: Partial<SshReturnOptions> = {}): Promise<void> {
  const o = withDefaults<SshReturnOptions>({ trials: 7, downS: [2.5, 4.5] }, options);
  const fleet = await startSshdFleet([{ name: NAME, kind: 'baremetal' }]);
  const rekickTimes: number[] = [];
  const ansibleTimes: number[] = [];
  try {
    fleet.writeKnownHosts();
    const host = fleet.host(NAME);
    const mark = path.join(fleet.dir, 'first-command-at');
    const command = `date +%s%3N > ${mark}`;
    const hostConfig: HostConfig = { name: NAME, arch: 'aarch64', kind: 'baremetal', address: host.address, port: 22, groups: [], channels: [] };
    const config = { postinstall: postinstallSchema.parse({ commands: [command] }) } as Config;
    const connector = createSshConnector({
      user: 'root',
      privateKey: fleet.clientKeyPath,
      knownHostsPath: fleet.knownHostsPath,
      connectTimeoutMs: 5000,
      commandTimeoutMs: 30_000,
      log: pino({ level: 'silent' }),
    });
    writeFileSync(
      path.join(fleet.dir, 'return.yml'),
      ['- hosts: all', '  gather_facts: false', '  tasks:', '    - wait_for_connection: {}', `    - shell: ${command}`, ''].join('\n'),
    );
    note(`ssh-return: one real sshd on ${host.address}:22, down ${o.downS[0]}-${o.downS[1]} s per trial, ${o.trials} trials each`);

    for (let i = 0; i < o.trials; i++) {
      rekickTimes.push(
        await trial(host, mark, o.downS, async () => {
          await waitForSsh(connector, host.target, { hostKeyMode: 'strict', timeoutMs: 60_000 });
          const remote = await connector.connect(host.target, { hostKeyMode: 'strict' });
          try {
            await runPostinstall(remote, hostConfig, config);
          } finally {
            await remote.close();
          }
        }),
      );
      ansibleTimes.push(
        await trial(host, mark, o.downS, async () => {
          const r = await runAnsiblePlaybook({
            dir: fleet.dir,
            hosts: [{ name: NAME, address: host.address }],
            playbook: 'return.yml',
            keyPath: fleet.clientKeyPath,
            knownHostsPath: fleet.knownHostsPath,
          });
          if (r.code !== 0) throw new Error(`ansible-playbook failed (${r.code}):\n${r.output.slice(-2000)}`);
        }),
      );
    }
  } finally {
    await fleet.stop();
  }
  note(`ssh-return: rekick (s): ${describeSamples(rekickTimes, 2)}`);
  note(`ssh-return: ansible wait_for_connection (s): ${describeSamples(ansibleTimes, 2)}`);
  report('ssh-return-median', median(rekickTimes), 's', '< 2 s');
  report('ansible-ssh-return-median', median(ansibleTimes), 's', 'for comparison');
}

/**
 * One trial: sshd goes down, `waiter` starts waiting for it, sshd comes back after a random pause. Returns the
 * seconds from sshd accepting connections to the first post-install command's time stamp on the host.
 */
async function trial(host: SimHost, mark: string, downS: [number, number], waiter: () => Promise<void>): Promise<number> {
  rmSync(mark, { force: true });
  await host.stop();
  const waiting = waiter();
  waiting.catch(() => undefined);
  await sleep((downS[0] + Math.random() * (downS[1] - downS[0])) * 1000);
  let upAt = 0;
  const probing = (async () => {
    while (!(await canConnect(host.address, 22, 200))) await sleep(2);
    upAt = Date.now();
  })();
  await host.start();
  await probing;
  await waiting;
  const ranAt = Number(readFileSync(mark, 'utf8').trim());
  if (!Number.isFinite(ranAt) || !upAt) throw new Error(`no time stamp from the first post-install command (${mark})`);
  return (ranAt - upAt) / 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
