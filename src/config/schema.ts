/**
 * The configuration schema: the one place that says which keys exist, what they mean and what they default to.
 * `shared/contract/rekick.example.yaml` is the contract; this schema accepts it unchanged and extends it.
 * Descriptions here feed the generated config reference in docs/.
 */
import { z } from 'zod';
import { parseDuration } from './duration';

const duration = (desc: string) =>
  z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v * 1000;
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like 90s, 20m, 6h or 14d, got "${v}"` });
        return z.NEVER;
      }
      return ms;
    })
    .describe(desc);

const hostName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'expected a host name (letters, digits, dots and dashes)');

const fileMode = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const s = typeof v === 'number' ? v.toString(8) : v;
    if (!/^0?[0-7]{3,4}$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `expected an octal file mode like "0644", got "${v}"` });
      return z.NEVER;
    }
    return parseInt(s, 8);
  });

export const kojiSchema = z
  .strictObject({
    server: z.string().url().optional().describe("the hub's XML-RPC endpoint, as in koji's own client config"),
    profile: z.string().optional().describe('read server, cert, serverca (and kerberos settings) from this koji CLI profile'),
    authtype: z.enum(['ssl', 'kerberos']).optional().describe('ssl (client certificate) or kerberos; default ssl'),
    cert: z.string().optional().describe('client certificate and key in one PEM, used for sslLogin'),
    serverca: z.string().optional().describe("CA that signed the hub's certificate"),
    principal: z.string().optional().describe('kerberos: the principal rekick logs in as'),
    keytab: z.string().optional().describe('kerberos: keytab holding the principal’s key'),
    weburl: z.string().url().optional().describe('optional: rekick links hosts and tasks to it in chat'),
    minEnabled: z
      .record(z.string(), z.number().int().min(0))
      .default({})
      .describe('per arch: the fewest enabled builders rekick may leave when it disables one'),
    pollInterval: duration('how often drain polls the hub for open tasks').prefault('10s'),
  })
  .describe('The Koji hub rekick disables and enables builders in');

export const sshSchema = z
  .strictObject({
  user: z.string().min(1).default('root').describe('the user rekick logs in as on builders and virthosts'),
  key: z.string().describe('private key rekick logs in with'),
  knownHosts: z.string().describe('OpenSSH known_hosts file; rekick keeps it current'),
  hostKeyPolicy: z
    .enum(['strict', 'accept-new-after-reinstall'])
    .default('accept-new-after-reinstall')
    .describe('strict: never accept a changed key; accept-new-after-reinstall: only between reinstall and post-install'),
  connectTimeout: duration('how long one SSH connection attempt may take').prefault('15s'),
  commandTimeout: duration('how long one remote command may run (bounded also by the step timeout)').prefault('10m'),
});

export const ircSchema = z.strictObject({
  host: z.string().min(1).describe('IRC server'),
  port: z.number().int().min(1).max(65535).default(6667),
  tls: z.boolean().default(false).describe('connect with TLS'),
  nick: z.string().min(1).default('rekick').describe("the bot's nick"),
  sasl: z
    .strictObject({ account: z.string().min(1).describe('services account'), password: z.string().min(1).describe('its password (use ${ENV})') })
    .optional()
    .describe('SASL PLAIN login to services'),
  channels: z
    .array(z.string().regex(/^[#&]/, 'expected a channel name starting with #'))
    .default([])
    .describe('where rekick listens, and where it posts notices'),
  rejectUnauthorized: z.boolean().default(true).describe('verify the IRC server certificate when tls is on'),
});

export const slackSchema = z.strictObject({
  signingSecret: z.string().min(1).describe("the Slack app's signing secret (use ${ENV})"),
  token: z.string().min(1).describe('bot token xoxb-... (use ${ENV})'),
  host: z
    .string()
    .min(1)
    .default('0.0.0.0')
    .describe("address of Slack's receiver, which serves /slack/events and nothing else (Slack must reach it, directly or through a reverse proxy)"),
  port: z.number().int().min(0).max(65535).default(3000).describe("port of Slack's receiver: Events API, slash command and interactivity at /slack/events"),
  teamId: z
    .string()
    .regex(/^T[A-Z0-9]{2,20}$/, 'expected a Slack workspace id like T0123ABCD')
    .optional()
    .describe('when set, signed requests from any other workspace are refused (acknowledged, counted and logged, not acted on)'),
  apiUrl: z.string().url().optional().describe('another Web API base URL'),
  channels: z.array(z.string().min(1)).default([]).describe('channel ids where rekick posts notices'),
});

export const httpSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('serve the status page, API, metrics and health probes (on by default, even without an http: section)'),
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('address of the status page, API, metrics and health probes; an address other than loopback needs token or tokenFile'),
  port: z.number().int().min(0).max(65535).default(8080).describe('their port (0: any free port); never slack.port on the same address'),
  token: z
    .string()
    .optional()
    .describe('when set, everything but /healthz and /readyz needs `Authorization: Bearer TOKEN` (use ${ENV}; at least 16 characters)'),
  tokenFile: z
    .string()
    .optional()
    .describe('the token read from this file instead (surrounding whitespace ignored; the file must not be readable by other users); not with token'),
});

export const chatSchema = z.strictObject({
  statusUrl: z
    .string()
    .url()
    .optional()
    .describe("the status page's address as people reach it, named where a long list is summarised in chat (default: rekick's own http address)"),
  rateLimit: z
    .strictObject({
      perMinute: z.number().positive().default(10).describe('commands a minute for someone without a role'),
      burst: z.number().int().min(1).default(5).describe('commands at once (after a quiet moment) for someone without a role'),
      privilegedPerMinute: z.number().positive().default(60).describe('commands a minute for operators and approvers'),
      privilegedBurst: z.number().int().min(1).default(20).describe('commands at once for operators and approvers'),
    })
    .prefault({})
    .describe('per identity (IRC account, else nick; Slack user; the lab console is not limited): past it, one notice, then silence'),
});

const identity = z
  .string()
  .regex(/^(irc|slack|console|cli):\S+$/, 'expected irc:ACCOUNT or slack:USERID');

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

export const configSchema = z.strictObject({
  store: z.string().default('./var/rekick.json').describe('lowdb state file (jobs, steps, approvals, rolling, audit)'),
  koji: kojiSchema,
  ssh: sshSchema,
  irc: ircSchema.optional(),
  slack: slackSchema.optional(),
  http: httpSchema.prefault({}).describe("the status page, read-only API, metrics and health probes (never on Slack's port)"),
  chat: chatSchema.prefault({}).describe('chat limits: command rate limits, the status page link in summaries'),
  roles: rolesSchema.prefault({}),
  installer: installerSchema,
  postinstall: postinstallSchema.prefault({}),
  virthostPostinstall: postinstallSchema
    .prefault({})
    .describe('steps 6 and 7 for hosts of kind virthost (they are no Koji builders: no kojid); same keys as postinstall'),
  timeouts: timeoutsSchema.prefault({}),
  retry: retrySchema.prefault({}).describe('retries of steps that are safe to retry, after a retryable error'),
  rolling: rollingSchema.prefault({}),
  history: historySchema.prefault({}).describe('how much finished history the state file keeps, so writes stay fast, and for how long the audit trail keeps what'),
  hosts: z.array(hostSchema).min(1, 'expected at least one host'),
});

export type RawConfig = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type HostConfig = Config['hosts'][number];
export type PostinstallFile = Config['postinstall']['files'][number];
