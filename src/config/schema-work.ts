/**
 * The config sections for the work rekick does: roles, installer, post-install, timeouts, rolling, retries,
 * history and the hosts themselves.
 */
import { z } from 'zod';
import { duration, fileMode, hostName, identity } from './schema-fields';

export const rolesSchema = z.strictObject({
  operator: z.array(identity).default([]).describe('may !reinstall, !cancel, !retry, !rolling'),
  approver: z.array(identity).default([]).describe('may !approve and !deny, and everything an operator may'),
});

export const installerSchema = z.strictObject({
  kernel: z.string().min(1).describe('installer kernel URL; {host}, {arch}, {address} replaced'),
  initrd: z.string().min(1).describe('installer initrd URL'),
  kickstart: z.string().min(1).describe('kickstart URL (inst.ks=)'),
  args: z.string().default('').describe('more installer kernel arguments'),
  tree: z.string().optional().describe('virt: the install tree given to virt-install --location (required when a host is of kind virt)'),
  virtArgs: z.string().default('').describe('virt: site options for virt-install'),
});

export const postinstallFileSchema = z
  .strictObject({
    dest: z.string().regex(/^\//, 'expected an absolute path on the host').describe('path on the host; {host} replaced'),
    template: z.string().optional().describe('local file rendered with {host}, {arch}, {address}'),
    source: z.string().optional().describe('local file copied as is; {host} replaced in the path'),
    content: z.string().optional().describe('literal content'),
    mode: fileMode.default(0o644).describe('octal mode, e.g. "0600"'),
    owner: z.string().optional().describe('user[:group] to chown the file to'),
    secret: z.boolean().optional().describe('never show its content anywhere (default: true for mode without group/other read)'),
  })
  .refine((f) => [f.template, f.source, f.content].filter((x) => x !== undefined).length === 1, {
    message: 'expected exactly one of template, source or content',
  });

export const postinstallSchema = z.strictObject({
  files: z.array(postinstallFileSchema).default([]).describe('files written on the host in step 6 (atomically, with mode)'),
  commands: z.array(z.string().min(1)).default([]).describe('commands run in order in step 6; the first failure stops the step'),
  verify: z.array(z.string().min(1)).default([]).describe('step 7, after the reboot: every command must exit 0'),
  playbook: z
    .strictObject({
      path: z.string().describe('the playbook'),
      inventory: z.string().optional().describe('inventory file (default: the host alone)'),
      extraArgs: z.array(z.string()).default([]).describe('more ansible-playbook arguments'),
    })
    .optional()
    .describe('run this Ansible playbook, limited to the host, as step 6 instead of files/commands'),
});

export const timeoutsSchema = z.strictObject({
  drain: duration('step 2: longest wait for the host’s open tasks').prefault('6h'),
  sshReturn: duration('steps 5 and 7: longest wait for SSH to come back').prefault('60m'),
  step: duration('any other step').prefault('20m'),
});

export const rollingSchema = z.strictObject({
  fraction: z.number().gt(0).max(1).default(0.1).describe('share of the fleet (or group) reinstalling at once, at least 1 host'),
  failureBudget: z.number().int().min(1).default(2).describe('failed reinstalls after which a rolling run pauses itself'),
  cadence: duration('with --continuous: the longest a host may go without a reinstall').optional(),
  window: z.string().optional().describe('when rolling may start hosts, e.g. "Mon-Fri 08:00-18:00 UTC"'),
  autoApprove: z.boolean().default(false).describe('enable hosts that passed reboot-verify without a human (audited)'),
  maxPerArch: z.number().int().min(1).optional().describe('at most this many hosts of one arch in flight'),
  maxPerVirthost: z.number().int().min(1).default(1).describe("at most this many of one virthost's guests in flight"),
});

export const retrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(20).default(3).describe('tries of a step, the first included'),
  backoff: duration('first retry delay; doubled each time').prefault('2s'),
  maxBackoff: duration('longest retry delay').prefault('60s'),
});

export const historySchema = z
  .strictObject({
    keepFinishedPerHost: z.number().int().min(1).default(5).describe('finished jobs kept per host in the state file (older ones are dropped)'),
    // The audit trail (docs/operator-guide.md, "The audit trail"): security actions, and apart from them refusals.
    auditMaxEntries: z
      .number()
      .int()
      .min(100)
      .optional()
      .describe('security actions (reinstall, approve, deny, cancel, retry, rolling…) kept in the audit trail, state and history files together; the oldest beyond it are dropped. Default 100000 (each takes about 0.5 KB of memory)'),
    maxAudit: z.number().int().min(100).optional().describe('the old name of auditMaxEntries, still accepted (setting both is an error)'),
    auditMaxAge: duration('security actions older than this are dropped from the audit trail (pino logs keep all)')
      .refine((ms) => ms >= 86_400_000, 'expected at least 1d')
      .prefault('400d'),
    refusalsMax: z
      .number()
      .int()
      .min(0)
      .default(200)
      .describe('refused and failed commands of identified users kept, apart from the security actions (repeats coalesced, the oldest dropped; 0: logs only). Refusals without a trustworthy identity are counted, not kept'),
  })
  .refine((h) => h.maxAudit === undefined || h.auditMaxEntries === undefined, {
    message: 'maxAudit is the old name of auditMaxEntries: set only auditMaxEntries',
    path: ['maxAudit'],
  })
  // The store's names: maxAudit is the security actions kept.
  .transform(({ auditMaxEntries, maxAudit, ...rest }) => ({ ...rest, maxAudit: auditMaxEntries ?? maxAudit ?? 100_000 }));

// A virt host's virthost (present, and naming a virthost) is checked with the other hosts in cross-check.ts.
export const hostSchema = z
  .strictObject({
    name: hostName.describe('the host name, as in Koji'),
    arch: z.string().default('x86_64'),
    kind: z.enum(['baremetal', 'virt', 'virthost']).describe('baremetal: installer via grub; virt: via libvirt on its virthost; virthost: hosts guests'),
    virthost: hostName.optional().describe('virt: the host its VM runs on'),
    address: z.string().optional().describe('else the name is resolved'),
    port: z.number().int().min(1).max(65535).default(22).describe('SSH port'),
    groups: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a group name')).default([]).describe('group:NAME in commands'),
    channels: z.array(z.string()).default([]).describe('Koji channels, for the capacity guard'),
  });
