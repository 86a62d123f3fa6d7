/**
 * The composition root: config -> store -> Koji client -> SSH connector -> executor -> chat adapters -> start.
 * Production (`rekick start`) and the lab (`rekick lab`) both come through here; the lab only points the config
 * at simulated peers and adds the console adapter.
 */
import type { Logger } from 'pino';
import type { Job } from './model';
import { createStore } from '../store';
import type { Store } from '../store/store';
import { commandRegistry } from '../commands';
import type { ChatAdapter } from './chat/chat-adapter';
import type { SlackAdapter } from './chat/slack/adapter';
import { ApprovalPrompts } from './chat/approval-prompts';
import { createNotifier } from './chat/notifier';
import { createRouter, type Router } from './chat/router';
import { createRoles } from './chat/roles';
import type { Config } from './config/schema';
import { createDrivers } from './drivers';
import { Executor } from './executor/executor';
import { createSteps } from './steps';
import { createExecutorActivities } from './steps/activities';
import { createRollingScheduler } from './rolling/scheduler';
import type { RollingScheduler } from './rolling/types';
import { createKojiClient } from './koji/client';
import type { KojiClient } from './koji/types';
import { sshConnectorFor } from './ssh/ssh-connector';
import { KojiHostStates } from './koji/host-states';
import { kojiOutageNotices } from './koji/outage-notices';
import { createMetrics, type Metrics } from './http/metrics';
import { chatQueueDepth, countChatSends } from './http/instrument';
import { startHttpServer, type HttpServer } from './http/server';
import { httpToken } from './config/http-exposure';
import { statusPageUrl } from './http/status-url';
import type { RemoteConnector } from './ssh/types';

export interface RekickOptions {
  config: Config;
  log: Logger;
  /** Extra adapters (the lab console); IRC and Slack come from the config. */
  adapters?: ChatAdapter[];
  /** Replace the chat adapters the config would create (tests). */
  chat?: { irc?: boolean; slack?: boolean };
  /** A Koji client to use instead of the one built from the config (tests); its failed calls are not counted in metrics. */
  koji?: KojiClient;
  connector?: RemoteConnector;
  store?: Store;
  /** Crash tests: called at each durable transition of a job. */
  checkpoint?: (point: string, job: Job) => void;
}

export interface Rekick {
  config: Config;
  executor: Executor;
  store: Store;
  koji: KojiClient;
  adapters: ChatAdapter[];
  hostStates: KojiHostStates;
  rolling: RollingScheduler;
  http?: HttpServer;
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
}

export async function createRekick(options: RekickOptions): Promise<Rekick> {
  const { config, log } = options;
  const store = options.store ?? createStore(config.store, { log, ...config.history });
  await store.open();
  // Callbacks made before the executor and the metrics exist reach them through `late`.
  const late: { executor?: Executor; metrics?: Metrics } = {};
  const koji = options.koji ?? productionKojiClient(config, log, late);
  const connector = options.connector ?? sshConnectorFor(config.ssh, log.child({ component: 'ssh' }));
  const executor = createExecutor(options, store, koji, connector);
  late.executor = executor;
  const { adapters, slack } = await createChatAdapters(options, executor);
  const hostStates = new KojiHostStates(koji, log.child({ component: 'koji-states' }));
  hostStates.follow(executor);
  const rolling = createRollingScheduler({ executor, store, config, log: log.child({ component: 'rolling' }) });
  // `!approve all` approves only jobs whose ready line had reached a chat when it arrived (waiting at start: seen).
  const prompts = new ApprovalPrompts({ waitingAtStart: executor.queue().map((j) => j.id) });
  const metrics = createMetrics({ config, store, executor, hostStates, chatQueued: () => chatQueueDepth(adapters), outsideRefusals: executor.outsideRefusals });
  late.metrics = metrics;
  for (const a of adapters) countChatSends(a, (name) => metrics.chatSent.inc({ adapter: name }));
  const base = { config, log, store, koji, executor, adapters, slack, hostStates, rolling, metrics };
  const parts: Parts = {
    ...base,
    router: createChatRouter(base, prompts, () => parts.http?.url),
    notifier: createNotifier({ executor, adapters, log: log.child({ component: 'notifier' }), prompts }),
  };
  return {
    config,
    executor,
    store,
    koji,
    adapters,
    hostStates,
    rolling,
    get http() {
      return parts.http;
    },
    start: () => startParts(parts),
    stop: (reason = 'rekick is shutting down') => stopParts(parts, reason),
  };
}

/** Everything createRekick made, as start and stop need it. */
interface Parts {
  config: Config;
  log: Logger;
  store: Store;
  koji: KojiClient;
  executor: Executor;
  adapters: ChatAdapter[];
  slack?: SlackAdapter;
  hostStates: KojiHostStates;
  rolling: RollingScheduler;
  metrics: Metrics;
  router: Router;
  notifier: ReturnType<typeof createNotifier>;
  http?: HttpServer;
}

/** The Koji client from the config: outages told in chat, failed calls counted. */
function productionKojiClient(config: Config, log: Logger, late: { executor?: Executor; metrics?: Metrics }): KojiClient {
  return createKojiClient({
    ...config.koji,
    log: log.child({ component: 'koji' }),
    onOutage: kojiOutageNotices(config.koji.server ?? config.koji.profile ?? 'hub', (level, text) => late.executor?.notify(level, text)),
    onCall: (call) => {
      if ('error' in call) late.metrics?.kojiErrors.inc({ method: call.method });
    },
  });
}

/** The executor with the steps and their activities (SSH connection layers, the Koji comment) handed in. */
function createExecutor(options: RekickOptions, store: Store, koji: KojiClient, connector: RemoteConnector): Executor {
  const { config, log } = options;
  const stepDeps = { config, koji, connector, drivers: createDrivers(), log: log.child({ component: 'executor' }) };
  return new Executor({ ...stepDeps, store, steps: createSteps(), activities: createExecutorActivities(stepDeps), checkpoint: options.checkpoint });
}

/**
 * The chat adapters: the extra ones given, then IRC and Slack from the config. Each chat library is loaded only
 * when its section is configured (Bolt and irc-framework are heavy). Slack's receiver listens on
 * slack.host:slack.port (Slack must reach it) and serves /slack/events alone.
 */
async function createChatAdapters(options: RekickOptions, executor: Executor): Promise<{ adapters: ChatAdapter[]; slack?: SlackAdapter }> {
  const { config, log } = options;
  const adapters: ChatAdapter[] = [...(options.adapters ?? [])];
  if (config.irc && options.chat?.irc !== false) {
    const { createIrcAdapter } = await import('./chat/irc/adapter');
    adapters.push(createIrcAdapter({ config: config.irc, log: log.child({ component: 'irc' }) }));
  }
  let slack: SlackAdapter | undefined;
  if (config.slack && options.chat?.slack !== false) {
    const { createSlackAdapter } = await import('./chat/slack/adapter');
    slack = createSlackAdapter({
      config: config.slack,
      log: log.child({ component: 'slack' }),
      onRejected: (entry) => executor.audit(entry),
      jobs: (id) => executor.store.getJob(id),
    });
    adapters.push(slack);
  }
  return { adapters, slack };
}

/** The router every adapter hands its command lines to. */
function createChatRouter(parts: Omit<Parts, 'router' | 'notifier' | 'http'>, prompts: ApprovalPrompts, statusListenerUrl: () => string | undefined): Router {
  const { config, log, executor, metrics, hostStates } = parts;
  return createRouter({
    executor,
    commands: commandRegistry,
    roles: createRoles(config.roles),
    log: log.child({ component: 'router' }),
    audit: (entry) => executor.audit(entry),
    adapters: parts.adapters,
    hostsInfo: (host) => hostStates.get(host),
    rolling: parts.rolling,
    nick: config.irc?.nick,
    seenBefore: (jobId, at) => prompts.seenBefore(jobId, at),
    rateLimit: config.chat.rateLimit,
    onRateLimited: (adapter) => metrics.chatRateLimited.inc({ adapter }),
    statusUrl: () => statusPageUrl(config.chat.statusUrl, statusListenerUrl()),
  });
}

/** Koji credentials checked, the status listener and Slack's open, then jobs resume, then chat starts. */
async function startParts(parts: Parts): Promise<void> {
  const { config, log, koji, executor, adapters } = parts;
  // Check the Koji credentials (certificate or keytab) at start: a bad one is an error now, not mid-job.
  if ('checkCredentials' in koji && typeof koji.checkCredentials === 'function') await koji.checkCredentials();
  parts.hostStates.start();
  if (config.http.enabled) {
    parts.http = await startHttpServer({
      config,
      store: parts.store,
      executor,
      metrics: parts.metrics,
      hostStates: parts.hostStates,
      adapters: () => adapters,
      log: log.child({ component: 'http' }),
      host: config.http.host,
      port: config.http.port,
      token: httpToken(config.http),
    });
    log.info({ url: parts.http.url, token: config.http.token !== undefined || config.http.tokenFile !== undefined }, 'status page and API listening');
  }
  // Both listeners open (or E_LISTEN) before any job resumes.
  await parts.slack?.listen();
  await parts.rolling.activate();
  await executor.start();
  for (const a of adapters) await a.start((message) => parts.router.handle(message));
  log.info({ adapters: adapters.map((a) => a.name), hosts: config.hosts.length }, 'rekick started');
}

async function stopParts(parts: Parts, reason: string): Promise<void> {
  parts.notifier.stop?.();
  parts.hostStates.stop();
  parts.metrics.stop();
  await parts.rolling.close();
  await parts.executor.stop();
  await parts.http?.stop();
  await Promise.allSettled(parts.adapters.map((a) => a.stop(reason)));
  await parts.koji.close().catch((err: unknown) => parts.log.warn({ err }, 'Koji logout failed'));
  parts.executor.outsideRefusals.flush(); // the last minute's summaries, into the refusal list the store writes at close
  await parts.store.close();
}
