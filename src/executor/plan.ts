/**
 * The plan `rekick reinstall --dry-run` prints: what each step would do for each host, in each step's own words
 * (Step.describe), so the plan cannot drift from what runs. It touches nothing.
 */
import type { Config } from '../config/schema';
import { expandHostWords } from '../hosts/expand';
import { indexHosts } from '../hosts/host-index';
import { stepNumber } from '../present/step-tag';
import { createSteps } from '../steps';
import { admitReinstall } from './virthost-guests';
import { withVirthostWaits } from './virthost-waits';

export function planReinstall(config: Config, names: string[], options: { forceDrain?: boolean } = {}): string[] {
  const lines: string[] = ['dry run: nothing will be changed'];
  // The steps as the executor runs them (stage-installer with the virthost waits before it).
  const steps = withVirthostWaits(createSteps());
  // As reinstall() queues them: a virthost followed by its guests, each guest once (no host is busy in a plan).
  const admitted = admitReinstall(expandHostWords(indexHosts(config.hosts), names), config, () => undefined, () => '');
  for (const { host, virthost } of admitted) {
    lines.push(`${host.name} (${host.kind}, ${host.arch}):`);
    const plan = { config, forceDrain: options.forceDrain, withVirthost: Boolean(virthost) };
    steps.forEach((step, n) => lines.push(`  ${stepNumber(step.name, n)} ${step.name}: ${step.describe!(host, plan)}`));
  }
  return lines;
}
