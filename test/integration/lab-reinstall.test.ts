/**
 * The spine, end to end, exactly as a person at the lab terminal would do it: `rekick lab` comes up,
 * `!reinstall buildarm-03` shows all eight steps and the approval request, `!approve buildarm-03` enables the host
 * in the lab hub.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { STEP_NAMES } from '../../src/model';
import { RekickProcess } from './helpers/lab-process';

describe('rekick lab', () => {
  const lab = new RekickProcess(['lab', '--fast', '--hosts', '6']);
  afterAll(() => lab.end()); // closing the console stops the lab, which removes its directory

  it('reinstalls buildarm-03 through all eight steps and enables it on approval', async () => {
    await lab.waitFor(/lab ready/i, 60_000);
    lab.send('!reinstall buildarm-03');
    for (const [i, step] of STEP_NAMES.slice(0, 7).entries()) {
      await lab.waitFor(new RegExp(`buildarm-03 \\[${i + 1}/8\\] ${step} ✓ [\\d.]+m?s`), 60_000);
    }
    await lab.waitFor(/buildarm-03 .*!approve buildarm-03/, 30_000);
    const mark = lab.lines.length;
    lab.send('!approve buildarm-03');
    await lab.waitFor(/buildarm-03 \[8\/8\] enable ✓/, 30_000, mark);
    await lab.waitFor(/buildarm-03.*enabled in Koji/i, 30_000, mark);
    const before = lab.lines.length;
    lab.send('!hosts');
    const row = await lab.waitFor(/buildarm-03/, 10_000, before);
    expect(row).toMatch(/enabled/);
  });
});
