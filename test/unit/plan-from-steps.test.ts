/** The dry-run plan is each step describing itself (Step.describe), so it cannot drift from the steps that run. */
import { describe, expect, it } from 'vitest';
import { planReinstall } from '../../src/executor/plan';
import { createSteps } from '../../src/steps';
import { STEP_NAMES } from '../../src/model';
import { testConfig } from '../fakes/test-config';

describe('dry-run plan from the steps', () => {
  it('every production step describes itself', () => {
    const steps = createSteps();
    expect(steps.map((s) => s.name)).toEqual([...STEP_NAMES]);
    for (const s of steps) expect(typeof s.describe, s.name).toBe('function');
  });

  it("each plan line is the step's own description", () => {
    const config = testConfig();
    const host = config.hosts.find((h) => h.name === 'buildarm-01')!;
    const lines = planReinstall(config, ['buildarm-01'], { forceDrain: true });
    const steps = createSteps();
    expect(lines.slice(2)).toEqual(steps.map((s, n) => `  [${n + 1}/8] ${s.name}: ${s.describe!(host, { config, forceDrain: true, withVirthost: false })}`));
  });

  it('a virthost: its Koji steps skipped, its stage waits for its guests, its post-install is virthostPostinstall, each guest waits for it', () => {
    const lines = planReinstall(testConfig(), ['vmhost-01']);
    expect(lines).toEqual([
      'dry run: nothing will be changed',
      'vmhost-01 (virthost, x86_64):',
      '  [1/8] disable: skipped (a virthost is no Koji builder)',
      '  [2/8] drain: skipped',
      '  [3/8] stage-installer: once its guest buildvm-01 is disabled and drained (each its own job, at once): on root@vmhost-01: record the host key and /etc/machine-id; fetch http://dl/x86_64/vmlinuz and http://dl/x86_64/initrd.img into /boot; grubby --add-kernel; grub2-reboot (one time)',
      '  [4/8] reinstall: on root@vmhost-01: systemctl reboot into the installer (inst.ks=http://ks/vmhost-01.ks)',
      '  [5/8] wait-ssh: wait up to 2s for SSH on root@vmhost-01 (host key policy accept-new-after-reinstall); require a new host key or /etc/machine-id',
      '  [6/8] post-install: write no files; run no commands',
      '  [7/8] reboot-verify: systemctl reboot; wait for SSH; verify (nothing)',
      '  [8/8] enable: skipped',
      'buildvm-01 (virt, x86_64):',
      '  [1/8] disable: Koji disableHost buildvm-01 + editHost comment',
      '  [2/8] drain: wait up to 2s for OPEN/ASSIGNED tasks on buildvm-01',
      "  [3/8] stage-installer: once virthost vmhost-01's job has succeeded: on vmhost-01: virsh destroy buildvm-01; virsh undefine buildvm-01 --nvram",
      '  [4/8] reinstall: on vmhost-01: virt-install --name buildvm-01 --location http://dl/x86_64/os/ --extra-args "inst.ks=http://ks/buildvm-01.ks ip=dhcp" ' + testConfig().installer.virtArgs,
      '  [5/8] wait-ssh: wait up to 2s for SSH on root@buildvm-01 (host key policy accept-new-after-reinstall); require a new host key or /etc/machine-id',
      '  [6/8] post-install: write no files; run "hostnamectl set-hostname buildvm-01"',
      '  [7/8] reboot-verify: systemctl reboot; wait for SSH; verify "systemctl is-active kojid"',
      '  [8/8] enable: after !approve buildvm-01: Koji enableHost buildvm-01',
    ]);
  });
});
