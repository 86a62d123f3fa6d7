/**
 * The composition root: config -> store -> Koji client -> SSH connector -> executor -> chat adapters -> start.
 * Production (`rekick start`) and the lab (`rekick lab`) both come through here; the lab only points the config
 * at simulated peers and adds the console adapter.
 */
import type { Logger } from 'pino';
import { createStore } from '../store';
import type { Store } from '../store/store';
import { commands } from '../commands';
import type { ChatAdapter } from './chat/chat-adapter';
import { ApprovalPrompts } from './chat/approval-prompts';
import { createNotifier } from './chat/notifier';
import { createRouter } from './chat/router';
import { createRoles } from './chat/roles';
import type { Config } from './config/schema';
import { createDrivers } from './drivers';
import { Executor } from './executor/executor';
import { createSteps } from './steps';
import { createRollingScheduler } from './rolling/scheduler';
import type { RollingScheduler } from './rolling/types';
import { createKojiClient } from './koji/client';
import type { KojiClient } from './koji/types';
import { sshConnectorFor } from './ssh/ssh-connector';
import { KojiHostStates } from './koji/host-states';
import { kojiOutageNotices } from './koji/outage-notices';
import { createMetrics } from './http/metrics';
import { chatQueueDepth, countChatSends, countKojiErrors } from './http/instrument';
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
  koji?: KojiClient;
  connector?: RemoteConnector;
  store?: Store;
  /** Crash tests: called at each durable transition of a job. */
  checkpoint?: (point: string, job: import('./model').Job) => void;
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

  let executor: Executor | undefined;
  let onKojiError: (method: string) => void = () => undefined;
  const koji = countKojiErrors(
    options.koji ??
      createKojiClient({
        ...config.koji,
        log: log.child({ component: 'koji' }),
        onOutage: kojiOutageNotices(config.koji.server ?? config.koji.profile ?? 'hub', (level, text) => executor?.notify(level, text)),
      }),
    (method) => onKojiError(method),
  );
  const connector =
    options.connector ??
    sshConnectorFor(config.ssh, log.child({ component: 'ssh' }));
  executor = new Executor({
    config,
    store,
    koji,
    connector,
    drivers: createDrivers(),
    steps: createSteps(),
    checkpoint: options.checkpoint,
    log: log.child({ component: 'executor' }),
  });

  const adapters: ChatAdapter[] = [...(options.adapters ?? [])];
  // Each chat library is loaded only when its section is configured (Bolt and irc-framework are heavy).
  if (config.irc && options.chat?.irc !== false) {
    const { createIrcAdapter } = await import('./chat/irc');
    adapters.push(createIrcAdapter({ config: config.irc, log: log.child({ component: 'irc' }) }));
  }
  // Slack's receiver listens on slack.host:slack.port (public: Slack must reach it) and serves /slack/events
  // alone; the status page, API and metrics are on the status listener (http.host, loopback by default).
  let slack: import('./chat/slack').SlackAdapter | undefined;
  if (config.slack && options.chat?.slack !== false) {
    const { createSlackAdapter } = await import('./chat/slack');
    slack = createSlackAdapter({
      config: config.slack,
      log: log.child({ component: 'slack' }),
      onRejected: (entry) => executor!.audit(entry),
      jobs: (id) => executor!.store.getJob(id),
    });
    adapters.push(slack);
  }

  const hostStates = new KojiHostStates(koji, log.child({ component: 'koji-states' }));
  hostStates.follow(executor);
  const rolling = createRollingScheduler({ executor, store, config, log: log.child({ component: 'rolling' }) });
  const roles = createRoles(config.roles);
  // `!approve all` approves only jobs whose ready line had reached a chat when it arrived (waiting at start: seen).
  const prompts = new ApprovalPrompts({ waitingAtStart: executor.queue().map((j) => j.id) });
  const router = createRouter({
    executor,
    commands,
    roles,
    log: log.child({ component: 'router' }),
    audit: (entry) => executor!.audit(entry),
    adapters,
    hostsInfo: (host) => hostStates.get(host),
    rolling,
    nick: config.irc?.nick,
    seenBefore: (jobId, at) => prompts.seenBefore(jobId, at),
    rateLimit: config.chat.rateLimit,
    onRateLimited: (adapter) => metrics.chatRateLimited.inc({ adapter }),
    statusUrl: () => statusPageUrl(config.chat.statusUrl, http?.url),
  });
  const notifier = createNotifier({ executor, adapters, log: log.child({ component: 'notifier' }), prompts });
  const exec = executor;
  const metrics = createMetrics({ config, store, executor: exec, hostStates, chatQueued: () => chatQueueDepth(adapters), outsideRefusals: exec.outsideRefusals });
  onKojiError = (method) => metrics.kojiErrors.inc({ method });
  for (const a of adapters) countChatSends(a, (name) => metrics.chatSent.inc({ adapter: name }));
  let http: HttpServer | undefined;

  return {
    config,
    executor: exec,
    store,
    koji,
    adapters,
    hostStates,
    rolling,
    get http() {
      return http;
    },
    async start() {
      // Check the Koji credentials (certificate or keytab) at start: a bad one is an error now, not mid-job.
      if ('checkCredentials' in koji && typeof koji.checkCredentials === 'function') await koji.checkCredentials();
      hostStates.start();
      if (config.http.enabled) {
        http = await startHttpServer({
          config,
          store,
          executor: exec,
          metrics,
          hostStates,
          adapters: () => adapters,
          log: log.child({ component: 'http' }),
          host: config.http.host,
          port: config.http.port,
          token: httpToken(config.http),
        });
        log.info({ url: http.url, token: config.http.token !== undefined || config.http.tokenFile !== undefined }, 'status page and API listening');
      }
      // Both listeners open (or E_LISTEN) before any job resumes.
      await slack?.listen();
      await rolling.activate();
      await exec.start();
      for (const a of adapters) {
        await a.start((message) => router.handle(message));
      }
      log.info({ adapters: adapters.map((a) => a.name), hosts: config.hosts.length }, 'rekick started');
    },
    async stop(reason = 'rekick is shutting down') {
      notifier.stop?.();
      hostStates.stop();
      metrics.stop();
      await rolling.close();
      await exec.stop();
      await http?.stop();
      await Promise.allSettled(adapters.map((a) => a.stop(reason)));
      await koji.close().catch((err: unknown) => log.warn({ err }, 'Koji logout failed'));
      exec.outsideRefusals.flush(); // the last minute's summaries, into the refusal list the store writes at close
      await store.close();
    },
  };
}
