/**
 * The SSH server of a simulated host (ssh2): public-key login for the one client key, exec requests run through
 * the simulated shell (with `kill` of running requests and the host's command faults), SFTP on its file system.
 */
import type net from 'node:net';
import type pino from 'pino';
import ssh2, { type AuthContext, type Connection, type ParsedKey, type Server, type ServerChannel } from 'ssh2';
import { onceSource, Shell, type Program, type Sink } from '../shell/shell-run';
import type { FaultSet } from './sim-faults';
import type { SimMachine } from './sim-machine';
import { serveSftp } from './sim-sftp';

/** What the SSH server needs of its host. */
export interface SshdHost {
  readonly log: pino.Logger;
  readonly user: string;
  readonly clientKey: ParsedKey;
  readonly hostKey: { private: string };
  readonly machine: SimMachine;
  readonly faults: FaultSet;
  /** The programs the shell runs on this host (kill is added here). */
  programs(): Map<string, Program>;
  record(kind: 'exec' | 'sftp', command: string): { code?: number | null };
  loginAccepted(): void;
}

interface Conn {
  socket: net.Socket;
  abort: AbortController;
}

/** A running exec request: its `$$` and how to kill it. */
interface Proc {
  abort: AbortController;
  killed?: string;
}

export class SimSshd {
  private ssh?: Server;
  private readonly conns = new Map<string, Conn>();
  private readonly procs = new Map<number, Proc>();
  private nextPid = 1000;

  constructor(private readonly host: SshdHost) {}

  /** A new host key (after an install): the next connection gets a server with it. */
  rekeyed(): void {
    this.ssh = undefined;
  }

  /** Drops every connection (power off, reboot, refuse). */
  dropConnections(): void {
    for (const c of this.conns.values()) c.socket.destroy();
  }

  private programs(): Map<string, Program> {
    return new Map([...this.host.programs(), ['kill', this.killProgram]]);
  }

  /** Serves one TCP connection to the host's port. */
  accept(socket: net.Socket): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const conn: Conn = { socket, abort: new AbortController() };
    this.conns.set(key, conn);
    socket.on('close', () => {
      this.conns.delete(key);
      conn.abort.abort();
    });
    this.sshServer().injectSocket(socket);
  }

  private sshServer(): Server {
    this.ssh ??= new ssh2.Server({ hostKeys: [this.host.hostKey.private] }, (client, info) => {
      const conn = this.conns.get(`${info.ip}:${info.port}`);
      if (!conn) return client.end();
      this.serveClient(client, conn);
    });
    return this.ssh;
  }

  private serveClient(client: Connection, conn: Conn): void {
    client.on('error', (err) => this.host.log.debug({ err }, 'ssh connection error'));
    client.on('authentication', (ctx) => this.authenticate(ctx));
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, _reject, info) => this.exec(info.command, accept(), conn));
        session.on('sftp', (accept) => {
          const sftp = accept();
          serveSftp(sftp, this.host.machine.fs, '/root', (op) => this.host.record('sftp', op));
        });
        session.on('env', (accept) => accept?.());
        session.on('pty', (_accept, reject) => reject?.());
        session.on('shell', (_accept, reject) => reject());
      });
    });
  }

  private authenticate(ctx: AuthContext): void {
    if (ctx.method !== 'publickey' || ctx.username !== this.host.user) return ctx.reject(['publickey']);
    const k = this.host.clientKey;
    if (ctx.key.algo !== k.type || !ctx.key.data.equals(k.getPublicSSH())) return ctx.reject(['publickey']);
    if (!ctx.signature || !ctx.blob) return ctx.accept(); // the client asks whether this key would do
    if (k.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) {
      this.host.loginAccepted();
      return ctx.accept();
    }
    ctx.reject(['publickey']);
  }

  private exec(command: string, stream: ServerChannel, conn: Conn): void {
    const record = this.host.record('exec', command);
    record.code = null;
    const pid = this.nextPid++;
    const proc: Proc = { abort: new AbortController() };
    this.procs.set(pid, proc);
    const onConnGone = () => proc.abort.abort();
    conn.abort.signal.addEventListener('abort', onConnGone, { once: true });
    const signal = proc.abort.signal;

    const input: Buffer[] = [];
    let inputDone = false;
    const waiting: (() => void)[] = [];
    const finishInput = () => {
      inputDone = true;
      for (const w of waiting.splice(0)) w();
    };
    stream.on('data', (chunk: Buffer) => input.push(chunk));
    stream.on('end', finishInput);
    signal.addEventListener('abort', finishInput, { once: true });
    const stdin = onceSource(() => (inputDone ? Promise.resolve(Buffer.concat(input)) : new Promise((resolve) => waiting.push(() => resolve(Buffer.concat(input))))));
    const live = () => !conn.abort.signal.aborted && !conn.socket.destroyed;
    const stdout: Sink = { write: (d) => void (live() && !proc.killed && stream.write(d)) };
    const stderr: Sink = { write: (d) => void (live() && !proc.killed && stream.stderr.write(d)) };
    const shell = new Shell({
      fs: this.host.machine.fs,
      programs: this.programs(),
      signal,
      pid,
      beforeProgram: (argv, io) => this.beforeProgram(argv, io, conn, signal),
    });
    const done = (finish: () => void) => {
      this.procs.delete(pid);
      conn.abort.signal.removeEventListener('abort', onConnGone);
      if (!live()) return;
      finish();
      stream.end();
    };
    shell.run(command, { stdin, stdout, stderr }).then(
      (code) => {
        record.code = proc.killed ? null : code;
        // Killed by a signal: sshd reports exit-signal, not a status.
        done(() => (proc.killed ? stream.exit(proc.killed, false, '') : stream.exit(code)));
      },
      (err: unknown) => {
        this.host.log.error({ err, command }, 'simulated command crashed');
        done(() => {
          stream.stderr.write(`rekick simulator: internal error: ${(err as Error).message}\n`);
          stream.exit(255);
        });
      },
    );
  }

  /** `kill [-SIG] [--] PID|-PGID`: ends a running exec request of this host by its `$$`. */
  private readonly killProgram: Program = (ctx) => {
    const args = ctx.argv.slice(1);
    let sig = 'TERM';
    let first = 0;
    if (args[0] === '-s') {
      sig = args[1] ?? '';
      first = 2;
    } else if (args[0] && args[0] !== '--' && /^-[A-Z0-9]+$/.test(args[0])) {
      sig = args[0].slice(1);
      first = 1;
    }
    sig = ({ '9': 'KILL', '15': 'TERM', '2': 'INT', '1': 'HUP' } as Record<string, string>)[sig] ?? sig.replace(/^SIG/, '');
    const targets = args.slice(first).filter((a) => a !== '--');
    if (!targets.length) {
      ctx.stderr.write('kill: usage: kill [-s sigspec | -signum | -sigspec] pid ...\n');
      return 2;
    }
    let status = 0;
    for (const t of targets) {
      const proc = this.procs.get(Math.abs(Number(t)));
      if (!proc) {
        ctx.stderr.write(`kill: (${t}) - No such process\n`);
        status = 1;
        continue;
      }
      proc.killed = sig;
      proc.abort.abort();
    }
    return status;
  };

  /** Fault injection at each program: fail, hang, or cut the connection. */
  private beforeProgram(argv: string[], io: { stderr: Sink }, conn: Conn, signal: AbortSignal): Promise<number | undefined> | number | undefined {
    const fault = this.host.faults.takeCommandFault(argv.join(' '));
    if (!fault) return undefined;
    if (fault.kind === 'fail') {
      if (fault.stderr) io.stderr.write(fault.stderr.endsWith('\n') ? fault.stderr : fault.stderr + '\n');
      return fault.code ?? 1;
    }
    if (fault.kind === 'drop') setImmediate(() => conn.socket.destroy());
    return new Promise((resolve) => {
      if (signal.aborted) resolve(255);
      signal.addEventListener('abort', () => resolve(255), { once: true });
    });
  }
}
