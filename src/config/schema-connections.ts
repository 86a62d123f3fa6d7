/** The config sections for what rekick talks to: the Koji hub, SSH, IRC, Slack, its own HTTP listener and chat limits. */
import { z } from 'zod';
import { duration } from './schema-fields';

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
