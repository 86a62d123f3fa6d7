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
    pollInterval: duration('how often drain polls the hub for open tasks').default(10_000),
  })
  .describe('The Koji hub rekick disables and enables builders in');

export const sshSchema = z.strictObject({
  user: z.string().min(1).default('root').describe('the user rekick logs in as on builders and virthosts'),
  key: z.string().describe('private key rekick logs in with'),
  knownHosts: z.string().describe('OpenSSH known_hosts file; rekick keeps it current'),
  hostKeyPolicy: z
    .enum(['strict', 'accept-new-after-reinstall'])
    .default('accept-new-after-reinstall')
    .describe('strict: never accept a changed key; accept-new-after-reinstall: only between reinstall and post-install'),
  connectTimeout: duration('how long one SSH connection attempt may take').default(15_000),
  commandTimeout: duration('how long one remote command may run (bounded also by the step timeout)').default(600_000),
});

export const ircSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(6667),
  tls: z.boolean().default(false),
  nick: z.string().min(1).default('rekick'),
  sasl: z.strictObject({ account: z.string().min(1), password: z.string().min(1) }).optional(),
  channels: z.array(z.string().regex(/^[#&]/, 'expected a channel name starting with #')).default([]),
  rejectUnauthorized: z.boolean().default(true).describe('verify the IRC server certificate when tls is on'),
});

export const slackSchema = z.strictObject({
  signingSecret: z.string().min(1),
  token: z.string().min(1),
  port: z.number().int().min(0).max(65535).default(3000),
  apiUrl: z.string().url().optional(),
  channels: z.array(z.string().min(1)).default([]),
});

export const httpSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  token: z.string().optional().describe('when set, the API and status page need `Authorization: Bearer TOKEN`'),
});

const identity = z
  .string()
  .regex(/^(irc|slack|console|cli):\S+$/, 'expected irc:ACCOUNT or slack:USERID');

export const rolesSchema = z.strictObject({
  operator: z.array(identity).default([]).describe('may !reinstall, !cancel, !retry, !rolling'),
  approver: z.array(identity).default([]).describe('may !approve and !deny, and everything an operator may'),
});

export const installerSchema = z.strictObject({
  kernel: z.string().min(1),
  initrd: z.string().min(1),
  kickstart: z.string().min(1),
  args: z.string().default(''),
  tree: z.string().optional(),
  virtArgs: z.string().default(''),
});

export const postinstallFileSchema = z
  .strictObject({
    dest: z.string().regex(/^\//, 'expected an absolute path on the host'),
    template: z.string().optional(),
    source: z.string().optional(),
    content: z.string().optional(),
    mode: fileMode.default(0o644),
    owner: z.string().optional(),
    secret: z.boolean().optional().describe('never show its content anywhere (default: true for mode without group/other read)'),
  })
  .refine((f) => [f.template, f.source, f.content].filter((x) => x !== undefined).length === 1, {
    message: 'expected exactly one of template, source or content',
  });

export const postinstallSchema = z.strictObject({
  files: z.array(postinstallFileSchema).default([]),
  commands: z.array(z.string().min(1)).default([]),
  verify: z.array(z.string().min(1)).default([]),
  playbook: z
    .strictObject({
      path: z.string(),
      inventory: z.string().optional(),
      extraArgs: z.array(z.string()).default([]),
    })
    .optional(),
});

export const timeoutsSchema = z.strictObject({
  drain: duration('step 2: longest wait for the host’s open tasks').default(6 * 3_600_000),
  sshReturn: duration('steps 5 and 7: longest wait for SSH to come back').default(60 * 60_000),
  step: duration('any other step').default(20 * 60_000),
});

export const rollingSchema = z.strictObject({
  fraction: z.number().gt(0).max(1).default(0.1),
  failureBudget: z.number().int().min(1).default(2),
  cadence: duration('with --continuous: the longest a host may go without a reinstall').optional(),
  window: z.string().optional().describe('when rolling may start hosts, e.g. "Mon-Fri 08:00-18:00 UTC"'),
  autoApprove: z.boolean().default(false),
  maxPerArch: z.number().int().min(1).optional(),
  maxPerVirthost: z.number().int().min(1).default(1),
});

export const retrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(20).default(3),
  backoff: duration('first retry delay; doubled each time').default(2_000),
  maxBackoff: duration('longest retry delay').default(60_000),
});

export const hostSchema = z
  .strictObject({
    name: hostName,
    arch: z.string().default('x86_64'),
    kind: z.enum(['baremetal', 'virt', 'virthost']),
    virthost: hostName.optional(),
    address: z.string().optional(),
    port: z.number().int().min(1).max(65535).default(22),
    groups: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a group name')).default([]),
    channels: z.array(z.string()).default([]).describe('Koji channels, for the capacity guard'),
  })
  .refine((h) => h.kind !== 'virt' || h.virthost, { message: 'a virt host needs a virthost', path: ['virthost'] });

export const configSchema = z.strictObject({
  store: z.string().default('./var/rekick.json'),
  koji: kojiSchema,
  ssh: sshSchema,
  irc: ircSchema.optional(),
  slack: slackSchema.optional(),
  http: httpSchema.optional(),
  roles: rolesSchema.default({ operator: [], approver: [] }),
  installer: installerSchema,
  postinstall: postinstallSchema.default({ files: [], commands: [], verify: [] }),
  timeouts: timeoutsSchema.default({ drain: 6 * 3_600_000, sshReturn: 3_600_000, step: 1_200_000 }),
  retry: retrySchema.default({ attempts: 3, backoff: 2_000, maxBackoff: 60_000 }),
  rolling: rollingSchema.default({ fraction: 0.1, failureBudget: 2, autoApprove: false, maxPerVirthost: 1 }),
  hosts: z.array(hostSchema).min(1, 'expected at least one host'),
});

export type RawConfig = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type HostConfig = Config['hosts'][number];
export type PostinstallFile = Config['postinstall']['files'][number];
