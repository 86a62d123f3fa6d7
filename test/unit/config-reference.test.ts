import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../src/config/reference';

describe('docs/config-reference.md', () => {
  it('is the reference generated from the schema (run `npm run docs:config` when this fails)', () => {
    const committed = readFileSync(new URL('../../docs/config-reference.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigReference());
  });

  it('documents every top-level section of the contract example', () => {
    const ref = renderConfigReference();
    for (const key of ['store', 'koji.server', 'ssh.hostKeyPolicy', 'irc.sasl.password', 'slack.signingSecret', 'roles.approver', 'installer.virtArgs', 'postinstall.files[].mode', 'timeouts.drain', 'rolling.failureBudget', 'hosts[].virthost']) {
      expect(ref).toContain(`\`${key}\``);
    }
  });
});
