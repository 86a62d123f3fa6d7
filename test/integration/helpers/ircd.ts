/**
 * A real IRC network on loopback for tests: Debian inspircd 3 + atheme-services 7 (NickServ accounts, SASL),
 * started per test file as the `irc` user on free ports, in a temp dir removed by stop().
 *
 * Accounts are preloaded into atheme's database (crypto/posix, SHA-512 crypt from openssl), so no REGISTER and
 * no throttle. The client class is inspircd's default flood class (threshold 10, fakelag on, recvq 10K), so a
 * client that floods is killed as on a real network. restart() stops inspircd (every client loses its
 * connection), starts it again on the same port, and waits for services to link again.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import IRC from 'irc-framework';
import { join } from 'node:path';
import { freePort } from '../../support/free-port';
import { startTcpProxy } from './tcp-proxy';
import { waitForMatch } from '../../support/wait-for-match';

export interface IrcAccount {
  account: string;
  password: string;
}

export interface IrcNetworkOptions {
  accounts: IrcAccount[];
  host?: string;
  /**
   * The client class's flood settings. Default: inspircd's default class (threshold 10, commandrate 1000 = one
   * command a second, fakelag on, recvq 10K). End-to-end tests that are about routing, not flood control, may
   * raise them so a whole job's lines arrive in seconds.
   */
  clientClass?: { threshold?: number; commandrate?: number };
  /** Also listen with TLS (a self-signed certificate for the address, ssl_gnutls) on `tlsPort`. */
  tls?: boolean;
  /**
   * The IRCv3 account capabilities offered (default: all). `accountTag` loads ircv3_accounttag (`account-tag`);
   * `accountNotify` and `extendedJoin` are the ircv3 module's `account-notify` and `extended-join` (it also
   * gives `away-notify`).
   */
  ircv3?: IrcAccountCaps;
  /**
   * A source address whose clients get a roomy class (no fakelag, large recvq): a test user who floods on purpose
   * (connectIrcUser's `localAddress`) while everyone else, the bot too, stays in the class above.
   */
  roomyClassFor?: string;
}

export interface IrcAccountCaps {
  accountTag?: boolean;
  accountNotify?: boolean;
  extendedJoin?: boolean;
}

export interface IrcNetwork {
  host: string;
  port: number;
  /** The TLS port when started with `tls: true`. */
  tlsPort?: number;
  /** The self-signed certificate the TLS port presents (PEM). */
  tlsCert?: string;
  dir: string;
  /** Stops inspircd (clients lose their connection), starts it again on the same port, waits for services. */
  restart(): Promise<void>;
  /** The two halves of restart(), for tests that act while the server is down. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** inspircd's log (for diagnosis). */
  log(): string;
  stop(): Promise<void>;
}

const SERVER_NAME = 'irc.rekick.test';
const SERVICES_NAME = 'services.rekick.test';
const LINK_PASS = 'link-secret-for-tests';

function inspircdConf(dir: string, host: string, port: number, linkPort: number, cls: { threshold?: number; commandrate?: number } = {}, tlsPort?: number, caps: IrcAccountCaps = {}, roomyFor?: string): string {
  const yesNo = (on: boolean | undefined) => (on === false ? 'no' : 'yes');
  const tls = tlsPort
    ? `
<module name="ssl_gnutls">
<sslprofile name="tests" provider="gnutls" certfile="${dir}/cert.pem" keyfile="${dir}/key.pem" dhfile="" hash="sha256" requestclientcert="no">
<bind address="${host}" port="${tlsPort}" type="clients" sslprofile="tests">`
    : '';
  return `${tls}
<server name="${SERVER_NAME}" description="rekick test network" network="RekickTest" id="0AA">
<admin name="tests" nick="tests" email="tests@rekick.test">
<bind address="${host}" port="${port}" type="clients">
<bind address="${host}" port="${linkPort}" type="servers">${roomyFor ? `
<connect name="roomy" allow="${roomyFor}" resolvehostnames="no" useident="no" localmax="200" globalmax="200" limit="1000"
         timeout="20" pingfreq="120" hardsendq="1M" softsendq="1M" recvq="1M" threshold="100000"
         commandrate="1000000" fakelag="no" maxchans="20">` : ''}
<connect name="main" allow="*" resolvehostnames="no" useident="no" localmax="200" globalmax="200" limit="1000"
         timeout="20" pingfreq="120" hardsendq="1M" softsendq="10240" recvq="10240" threshold="${cls.threshold ?? 10}"
         commandrate="${cls.commandrate ?? 1000}" fakelag="yes" maxchans="20">
<path configdir="${dir}" datadir="${dir}" logdir="${dir}" moduledir="/usr/lib/inspircd/modules" runtimedir="${dir}">
<pid file="${dir}/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="${dir}/ircd.log">
<options allowcoreunload="no" hostintopic="yes" defaultmodes="nt">
<security hidesplits="no" hideulines="yes" announceinvites="dynamic">
<performance clonesonconnect="no" softlimit="1000" quietbursts="yes">
<dns server="127.0.0.1" timeout="1">
<module name="spanningtree">
<module name="services_account">
<module name="sasl">
<module name="cap">
<module name="ircv3">
<ircv3 accountnotify="${yesNo(caps.accountNotify)}" awaynotify="yes" extendedjoin="${yesNo(caps.extendedJoin)}">
${caps.accountTag === false ? '' : '<module name="ircv3_accounttag">'}
<module name="ircv3_echomessage">
<module name="ircv3_servertime">
<module name="ircv3_batch">
<module name="hidechans">
<sasl target="${SERVICES_NAME}" requiressl="no">
<link name="${SERVICES_NAME}" ipaddr="${host}" port="${linkPort}" allowmask="127.0.0.0/8"
      sendpass="${LINK_PASS}" recvpass="${LINK_PASS}" hidden="no">
<uline server="${SERVICES_NAME}" silent="yes">
`;
}

function athemeConf(host: string, linkPort: number): string {
  return `
loadmodule "modules/protocol/inspircd";
loadmodule "modules/backend/opensex";
loadmodule "modules/crypto/posix";
loadmodule "modules/nickserv/main";
loadmodule "modules/nickserv/identify";
loadmodule "modules/nickserv/register";
loadmodule "modules/nickserv/info";
loadmodule "modules/saslserv/main";
loadmodule "modules/saslserv/plain";
serverinfo {
  name = "${SERVICES_NAME}";
  desc = "rekick test services";
  numeric = "00A";
  recontime = 1;
  netname = "RekickTest";
  hidehostsuffix = "users.rekick.test";
  adminname = "tests";
  adminemail = "tests@rekick.test";
  registeremail = "noreply@rekick.test";
  mta = "/bin/true";
  loglevel = { error; info; network; };
  maxlogins = 10;
  maxusers = 1000;
  mdlimit = 30;
  emaillimit = 1000;
  emailtime = 1;
  auth = none;
  casemapping = rfc1459;
};
uplink "${SERVER_NAME}" {
  host = "${host}";
  port = ${linkPort};
  send_password = "${LINK_PASS}";
  receive_password = "${LINK_PASS}";
};
nickserv { nick = "NickServ"; user = "NickServ"; host = "${SERVICES_NAME}"; real = "Nickname Services"; };
saslserv { nick = "SaslServ"; user = "SaslServ"; host = "${SERVICES_NAME}"; real = "SASL Authentication Agent"; };
general {
  uflags = { hidemail; };
  cflags = { verbose; };
  flood_msgs = 100;
  flood_time = 10;
  kline_time = 7;
  commit_interval = 5;
  default_clone_allowed = 100;
  default_clone_warn = 100;
  uplink_sendq_limit = 1048576;
  language = "en";
};
`;
}

/** atheme's opensex database with the accounts preloaded (SHA-512 crypt, as crypto/posix checks). */
function athemeDb(accounts: IrcAccount[]): string {
  const now = Math.floor(Date.now() / 1000);
  const lines = ['DBV 12', 'CF +vViorfsqbtFAeSaxhnl'];
  accounts.forEach((a, i) => {
    const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: `${a.password}\n` }).toString().trim();
    const id = `AAAAAA${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`;
    lines.push(`MU ${id} ${a.account} ${hash} ${a.account}@rekick.test ${now} ${now} +sC default`);
    lines.push(`MN ${a.account} ${a.account} ${now} ${now}`);
  });
  lines.push('');
  return lines.join('\n');
}

function asIrc(cmd: string, args: string[], onOutput?: (text: string) => void): ChildProcess {
  const child = spawn('setpriv', ['--reuid=irc', '--regid=irc', '--init-groups', cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => onOutput?.(d.toString()));
  child.stderr?.on('data', (d: Buffer) => onOutput?.(d.toString()));
  return child;
}

function chownTree(dir: string): void {
  const uid = Number(execFileSync('id', ['-u', 'irc']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'irc']).toString().trim());
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, gid);
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s: Socket = netConnect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Starts inspircd + atheme with the accounts; resolves once services have linked. */
export async function startIrcNetwork(options: IrcNetworkOptions): Promise<IrcNetwork> {
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'rekick-ircd-'));
  const port = await freePort(host);
  const linkPort = await freePort(host);
  const tlsPort = options.tls ? await freePort(host) : undefined;
  let tlsCert: string | undefined;
  if (tlsPort) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${host}`, '-addext', `subjectAltName=IP:${host}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tlsCert = execFileSync('cat', [join(dir, 'cert.pem')]).toString();
  }
  writeFileSync(join(dir, 'inspircd.conf'), inspircdConf(dir, host, port, linkPort, options.clientClass, tlsPort, options.ircv3, options.roomyClassFor));
  writeFileSync(join(dir, 'atheme.conf'), athemeConf(host, linkPort));
  writeFileSync(join(dir, 'services.db'), athemeDb(options.accounts));
  writeFileSync(join(dir, 'ircd.log'), '');
  writeFileSync(join(dir, 'atheme.log'), '');
  chownTree(dir);

  let ircd: ChildProcess | undefined;
  let services: ChildProcess | undefined;
  const readLog = (name: string) => {
    try {
      return execFileSync('cat', [join(dir, name)]).toString();
    } catch {
      return '';
    }
  };

  const startIrcd = async () => {
    ircd = asIrc('/usr/sbin/inspircd', ['--config', join(dir, 'inspircd.conf'), '--nofork', '--nopid']);
    await waitFor(`inspircd on ${host}:${port}`, () => canConnect(host, port));
    // The TLS listener comes up after the TLS module has loaded its certificate: wait for it too.
    if (tlsPort) await waitFor(`inspircd TLS on ${host}:${tlsPort}`, () => canConnect(host, tlsPort));
  };
  // A test process that dies without stop() must not leave daemons behind.
  const killAll = () => {
    ircd?.kill('SIGKILL');
    services?.kill('SIGKILL');
  };
  process.once('exit', killAll);
  // inspircd buffers its log file; atheme's foreground output says when it has synced with its uplink.
  let servicesOutput = '';
  const linkCount = () => (servicesOutput.match(/finished synching with uplink/g) ?? []).length;

  try {
    await startIrcd();
    services = asIrc('/usr/bin/atheme-services', ['-n', '-c', join(dir, 'atheme.conf'), '-D', dir, '-l', join(dir, 'atheme.log'), '-p', join(dir, 'atheme.pid')], (t) => {
      servicesOutput += t;
    });
    await waitFor('services to link', () => linkCount() >= 1);
  } catch (err) {
    await stopChild(services);
    await stopChild(ircd);
    const logs = `inspircd log:\n${readLog('ircd.log')}\natheme log:\n${readLog('atheme.log')}`;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${logs}`);
  }

  const network: IrcNetwork = {
    host,
    port,
    tlsPort,
    tlsCert,
    dir,
    async restart() {
      await network.stopServer();
      await network.startServer();
    },
    async stopServer() {
      await stopChild(ircd);
    },
    async startServer() {
      const before = linkCount();
      await startIrcd();
      // atheme reconnects by itself after recontime (1 s).
      await waitFor('services to link again', () => linkCount() > before, 20_000);
    },
    log: () => readLog('ircd.log'),
    async stop() {
      process.removeListener('exit', killAll);
      await stopChild(services);
      await stopChild(ircd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return network;
}

export interface SeenLine {
  nick: string;
  target: string;
  message: string;
  account?: string;
}

/** A person on the test network (irc-framework client), optionally logged in with SASL. */
export interface IrcUser {
  nick: string;
  client: InstanceType<typeof IRC.Client>;
  /** PRIVMSG lines seen (channel and private). */
  seen: SeenLine[];
  say(target: string, text: string): void;
  /** Resolves once a line matching the predicate has been seen (looks at past lines too). */
  waitForLine(pred: (l: SeenLine) => boolean, timeoutMs?: number): Promise<SeenLine>;
  /** Connects again after the server went away (same nick, same SASL), rejoining the channels. */
  reconnect(): Promise<void>;
  quit(): Promise<void>;
}

export async function connectIrcUser(
  net: { host: string; port: number },
  /** localAddress: the source address to connect from (e.g. the network's roomyClassFor). */
  options: { nick: string; sasl?: IrcAccount; channels?: string[]; username?: string; localAddress?: string },
): Promise<IrcUser> {
  const seen: SeenLine[] = [];
  const listeners = new Set<() => void>();
  let client!: InstanceType<typeof IRC.Client>;

  const connectOnce = () =>
    new Promise<void>((resolve, reject) => {
      const c = new IRC.Client();
      client = c;
      const channels = options.channels ?? [];
      const pending = new Set(channels.map((ch) => ch.toLowerCase()));
      const timer = setTimeout(() => reject(new Error(`${options.nick} could not connect and join ${channels.join(' ')}`)), 15_000);
      c.on('registered', () => {
        if (!pending.size) {
          clearTimeout(timer);
          resolve();
        }
        for (const ch of channels) c.join(ch);
      });
      c.on('join', (e: { nick: string; channel: string }) => {
        if (e.nick.toLowerCase() !== c.user.nick.toLowerCase()) return;
        pending.delete(e.channel.toLowerCase());
        if (!pending.size) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.on('privmsg', (e: { nick: string; target: string; message: string; account?: string }) => {
        seen.push({ nick: e.nick, target: e.target, message: e.message, account: e.account });
        for (const l of [...listeners]) l();
      });
      c.on('close', () => reject(new Error(`${options.nick}: connection closed before joining`)));
      c.connect({
        host: net.host,
        port: net.port,
        nick: options.nick,
        username: options.username ?? options.nick.slice(0, 9),
        gecos: options.nick,
        account: options.sasl,
        auto_reconnect: false,
        ...(options.localAddress ? { outgoing_addr: options.localAddress } : {}),
      });
    });

  await connectOnce();
  return {
    nick: options.nick,
    get client() {
      return client;
    },
    seen,
    say(target, text) {
      client.say(target, text);
    },
    waitForLine(pred, timeoutMs = 20_000) {
      return waitForMatch(seen, listeners, pred, timeoutMs, () => `${options.nick}: no matching line within ${timeoutMs}ms; saw ${seen.length} lines, last: ${JSON.stringify(seen.slice(-3))}`);
    },
    async reconnect() {
      client.removeAllListeners();
      for (let i = 0; ; i++) {
        try {
          await connectOnce();
          return;
        } catch (err) {
          if (i > 20) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    async quit() {
      if (!client.connected) return;
      const closed = new Promise<void>((r) => {
        client.on('close', () => r());
        setTimeout(r, 2000).unref();
      });
      client.quit('bye');
      await closed;
    },
  };
}

/**
 * A TCP gate in front of the IRC server, for the bot only: shut() cuts its connections and refuses new ones
 * (they are accepted and closed at once) until open(). Lets a test decide when the bot gets back in.
 */
export interface Gate {
  port: number;
  open(): void;
  shut(): void;
  /** Connections accepted while open. */
  connections(): number;
  close(): Promise<void>;
}

export async function startGate(target: { host: string; port: number }): Promise<Gate> {
  let isOpen = true;
  const proxy = await startTcpProxy(target, { accept: () => isOpen });
  return {
    port: proxy.port,
    open() {
      isOpen = true;
    },
    shut() {
      isOpen = false;
      proxy.dropAll();
    },
    connections: () => proxy.connections(),
    async close() {
      isOpen = false;
      await proxy.close();
    },
  };
}
