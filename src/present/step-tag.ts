/** The `[N/8] step` tag that names a step in every progress line, status view, refusal and rolling notice. */
import { STEP_NAMES, type StepName } from '../model';

export const TOTAL_STEPS = STEP_NAMES.length;

/** `[3/8] stage-installer`; `index` defaults to the step's place in the pipeline. */
export function stepTag(step: StepName, index?: number): string {
  return `${stepNumber(step, index)} ${step}`;
}

/** `[3/8]`: the step's place among the eight, without its name. */
export function stepNumber(step: StepName, index?: number): string {
  return `[${stepOrdinal(index ?? STEP_NAMES.indexOf(step))}]`;
}

/** `3/8` for the step at `index` (0-based): the number inside the tag, and Slack's step table. */
export function stepOrdinal(index: number): string {
  return `${index + 1}/${TOTAL_STEPS}`;
}

/** The step a job is at: its `current` step, or the last one once it went past the end. */
export function currentStep(job: { current: number }): StepName {
  return STEP_NAMES[Math.min(job.current, TOTAL_STEPS - 1)]!;
}
