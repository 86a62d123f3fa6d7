/**
 * The configuration schema, composed of its sections (schema-connections.ts, schema-work.ts): the one place that
 * says which keys exist, what they mean and what they default to.
 * rekick.example.yaml (at the top of the repository) is the contract; this schema accepts it unchanged and extends it.
 * Descriptions here feed the generated config reference in docs/.
 */
import { z } from 'zod';
import { chatSchema, httpSchema, ircSchema, kojiSchema, slackSchema, sshSchema } from './schema-connections';
import { historySchema, hostSchema, installerSchema, postinstallSchema, retrySchema, rolesSchema, rollingSchema, timeoutsSchema } from './schema-work';

export { postinstallSchema } from './schema-work';

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
