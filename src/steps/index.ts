/** The eight steps, in order (their names are the ones chat shows: docs/operator-guide.md). */
import { STEP_NAMES } from '../model';
import { disableStep } from './disable';
import { drainStep } from './drain';
import { enableStep } from './enable';
import { postInstallStep } from './post-install';
import { rebootVerifyStep } from './reboot-verify';
import { reinstallStep } from './reinstall';
import { stageInstallerStep } from './stage-installer';
import type { Step } from './types';
import { waitSshStep } from './wait-ssh';

export function createSteps(): Step[] {
  const steps = [disableStep, drainStep, stageInstallerStep, reinstallStep, waitSshStep, postInstallStep, rebootVerifyStep, enableStep];
  steps.forEach((s, i) => {
    if (s.name !== STEP_NAMES[i]) throw new Error(`step ${i} is ${s.name}, expected ${STEP_NAMES[i]}`);
  });
  return steps;
}
