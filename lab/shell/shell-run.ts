/**
 * Runs parsed command lines against a simulated host: expansion, redirections to its filesystem, pipes (run one
 * after the other, through buffers), `&&`/`||`/`;`/`!`, and the builtins `set` (-e -x -u, -o pipefail), `cd`,
 * `exit`, `export`, `:`. Programs are looked up by name in a table; an unknown one is `sh: NAME: command not found`
 * with status 127.
 */
import path from 'node:path';
import { parseScript, ShellSyntaxError, type Command, type GroupCommand, type Pipeline, type Redirect, type Script, type Word } from './shell-parse';
import { SimFs, SimFsError } from '../fleet/sim-fs';

/** Where a program's output goes. */
export interface Sink {
  write(data: string | Buffer): void;
}

/** A program's input, read whole (the exec channel's stdin until EOF, a file, or the previous pipe stage). */
export interface Source {
  read(): Promise<Buffer>;
}

export interface ProgramContext {
  argv: string[];
  stdin: Source;
  stdout: Sink;
  stderr: Sink;
  shell: Shell;
  signal: AbortSignal;
}

/** A program returns its exit status. */
export type Program = (ctx: ProgramContext) => number | Promise<number>;

export interface ShellOptions {
  fs: SimFs;
  programs: ReadonlyMap<string, Program>;
  env?: Record<string, string>;
  cwd?: string;
  signal: AbortSignal;
  /** What `$$` expands to (the host's `kill` can end the command by it). */
  pid?: number;
  /**
   * Called before every program runs, with its expanded argv. Returning a number skips the program and uses that
   * as its status (fault injection); the promise may also never settle (a hung command).
   */
  beforeProgram?: (argv: string[], io: { stdout: Sink; stderr: Sink }) => Promise<number | undefined> | number | undefined;
}

/** `exit N` unwinds to the top of the script. */
class ShellExit {
  constructor(readonly code: number) {}
}

export const EMPTY_SOURCE: Source = { read: async () => Buffer.alloc(0) };
export const NULL_SINK: Sink = { write: () => undefined };

/** A source read once: the first reader gets the data, later readers (like a consumed pipe) get nothing. */
export function onceSource(read: () => Promise<Buffer>): Source {
  let used = false;
  return {
    read() {
      if (used) return Promise.resolve(Buffer.alloc(0));
      used = true;
      return read();
    },
  };
}

export class BufferSink implements Sink {
  private readonly chunks: Buffer[] = [];
  write(data: string | Buffer): void {
    this.chunks.push(typeof data === 'string' ? Buffer.from(data) : data);
  }
  get buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export class Shell {
  readonly fs: SimFs;
  readonly env: Record<string, string>;
  cwd: string;
  readonly signal: AbortSignal;
  private readonly programs: ReadonlyMap<string, Program>;
  private readonly beforeProgram: ShellOptions['beforeProgram'];
  private errexit = false;
  private xtrace = false;
  private pipefail = false;
  private status = 0;
  /** Mode bits taken away from files the shell creates (`umask`). */
  umask = 0o022;

  constructor(private readonly options: ShellOptions) {
    this.fs = options.fs;
    this.programs = options.programs;
    this.env = { HOME: '/root', USER: 'root', LOGNAME: 'root', SHELL: '/bin/sh', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin', ...options.env };
    this.cwd = options.cwd ?? this.env['HOME']!;
    this.signal = options.signal;
    this.beforeProgram = options.beforeProgram;
  }

  /** A shell for `sh -c`: same host, environment, working directory and umask, its own options. */
  child(): Shell {
    const c = new Shell({ ...this.options, env: { ...this.env }, cwd: this.cwd });
    c.umask = this.umask;
    return c;
  }

  /** A subshell `( ... )`: a child that also keeps this shell's options. */
  private subshell(): Shell {
    const c = this.child();
    c.errexit = this.errexit;
    c.xtrace = this.xtrace;
    c.pipefail = this.pipefail;
    c.status = this.status;
    return c;
  }

  setOptions(flags: { errexit?: boolean; xtrace?: boolean }): void {
    if (flags.errexit !== undefined) this.errexit = flags.errexit;
    if (flags.xtrace !== undefined) this.xtrace = flags.xtrace;
  }

  /** Runs a script; resolves with its exit status. Syntax errors are status 2, like sh. */
  async run(src: string, io: { stdin: Source; stdout: Sink; stderr: Sink }): Promise<number> {
    let script;
    try {
      script = parseScript(src);
    } catch (err) {
      if (!(err instanceof ShellSyntaxError)) throw err;
      io.stderr.write(`sh: ${err.message}\n`);
      return 2;
    }
    return this.runScript(script, io);
  }

  /** Runs a whole script in this shell; `exit` (and `set -e`) end it here. */
  private async runScript(script: Script, io: { stdin: Source; stdout: Sink; stderr: Sink }): Promise<number> {
    try {
      return await this.runLists(script, io);
    } catch (err) {
      if (err instanceof ShellExit) return err.code;
      throw err;
    }
  }

  private async runLists(script: Script, io: { stdin: Source; stdout: Sink; stderr: Sink }): Promise<number> {
    for (const list of script) {
      let status = await this.runPipeline(list.first, io);
      let lastRan = list.rest.length === 0;
      for (const [i, { op, pipeline }] of list.rest.entries()) {
        if ((op === '&&') === (status === 0)) {
          status = await this.runPipeline(pipeline, io);
          lastRan = i === list.rest.length - 1;
        } else lastRan = false;
      }
      this.status = status;
      // set -e: a failure ends the shell unless it was tested by && or || (POSIX).
      if (this.errexit && status !== 0 && lastRan) throw new ShellExit(status);
    }
    return this.status;
  }

  private async runPipeline(pipeline: Pipeline, io: { stdin: Source; stdout: Sink; stderr: Sink }): Promise<number> {
    let stdin = io.stdin;
    let status = 0;
    let failed = 0;
    for (const [i, cmd] of pipeline.commands.entries()) {
      const last = i === pipeline.commands.length - 1;
      const out = last ? io.stdout : new BufferSink();
      status = await this.runCommand(cmd, { stdin, stdout: out, stderr: io.stderr });
      if (status !== 0) failed = status;
      if (!last) {
        const data = (out as BufferSink).buffer;
        stdin = onceSource(async () => data);
      }
    }
    if (this.pipefail && status === 0) status = failed;
    if (pipeline.negate) status = status === 0 ? 1 : 0;
    this.status = status;
    return status;
  }

  private async runCommand(cmd: Command, io: { stdin: Source; stdout: Sink; stderr: Sink }): Promise<number> {
    if (this.signal.aborted) throw new ShellExit(255);
    const argv = cmd.kind ? [] : cmd.words.map((w) => this.expand(w)).filter((w): w is string => w !== null);
    // Leading NAME=value words set variables (for the command, here simply for the shell).
    while (!cmd.kind && argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]!)) {
      const a = argv.shift()!;
      const eq = a.indexOf('=');
      this.env[a.slice(0, eq)] = a.slice(eq + 1);
    }
    const fds: (Sink | Source)[] = [io.stdin, io.stdout, io.stderr];
    const opened: { path: string; sink: BufferSink; append: boolean }[] = [];
    for (const r of cmd.redirects) {
      const problem = this.applyRedirect(r, fds, opened);
      if (problem) {
        io.stderr.write(`sh: ${problem}\n`);
        return 1;
      }
    }
    const stdin = fds[0] as Source;
    const stdout = fds[1] as Sink;
    const stderr = fds[2] as Sink;
    let status: number;
    try {
      if (cmd.kind) status = await this.runGroup(cmd, { stdin, stdout, stderr });
      else status = argv.length ? await this.runProgram(argv, { stdin, stdout, stderr }) : 0;
    } finally {
      for (const f of opened) {
        try {
          this.fs.write(f.path, f.sink.buffer, { append: true });
        } catch (err) {
          if (!(err instanceof SimFsError)) throw err;
          io.stderr.write(`sh: ${f.path}: ${err.reason}\n`);
        }
      }
    }
    return status;
  }

  private runGroup(group: GroupCommand, io: { stdin: Source; stdout: Sink; stderr: Sink }): Promise<number> {
    if (group.kind === 'brace') return this.runLists(group.body, io);
    return this.subshell().runScript(group.body, io);
  }

  /** Opens one redirection; returns an error message when it cannot be opened. */
  private applyRedirect(r: Redirect, fds: (Sink | Source)[], opened: { path: string; sink: BufferSink; append: boolean }[]): string | undefined {
    if (r.op === '>&') {
      const from = fds[r.target as number];
      if (!from) return `${r.target}: Bad file descriptor`;
      fds[r.fd] = from;
      return undefined;
    }
    const name = this.expand(r.target as Word) ?? '';
    const file = SimFs.resolve(name, this.cwd);
    if (r.op === '<') {
      if (file === '/dev/null') {
        fds[r.fd] = EMPTY_SOURCE;
        return undefined;
      }
      try {
        const data = this.fs.read(file);
        fds[r.fd] = onceSource(async () => data);
      } catch (err) {
        if (!(err instanceof SimFsError)) throw err;
        return `${name}: ${err.reason}`;
      }
      return undefined;
    }
    let sink: Sink = NULL_SINK;
    if (file !== '/dev/null') {
      try {
        if (r.op !== '>>' || !this.fs.exists(file)) this.fs.write(file, '', this.fs.exists(file) ? {} : { mode: 0o666 & ~this.umask });
        else this.fs.read(file);
      } catch (err) {
        if (!(err instanceof SimFsError)) throw err;
        return `${name}: ${err.reason}`;
      }
      const buffer = new BufferSink();
      opened.push({ path: file, sink: buffer, append: true });
      sink = buffer;
    }
    if (r.op === '&>') {
      fds[1] = sink;
      fds[2] = sink;
    } else fds[r.fd] = sink;
    return undefined;
  }

  private async runProgram(argv: string[], io: { stdin: Source; stdout: Sink; stderr: Sink }): Promise<number> {
    if (this.xtrace) io.stderr.write(`+ ${argv.join(' ')}\n`);
    const builtin = this.builtin(argv, io);
    if (builtin !== undefined) return builtin;
    const name = path.posix.basename(argv[0]!);
    const program = this.programs.get(name);
    const injected = await this.beforeProgram?.(argv, io);
    if (injected !== undefined) return injected;
    if (!program) {
      io.stderr.write(`sh: ${argv[0]}: command not found\n`);
      return 127;
    }
    return program({ argv: [name, ...argv.slice(1)], ...io, shell: this, signal: this.signal });
  }

  private builtin(argv: string[], io: { stdout: Sink; stderr: Sink }): number | undefined {
    const [name, ...args] = argv;
    switch (name) {
      case ':':
        return 0;
      case 'exit':
        throw new ShellExit(args[0] !== undefined ? Number(args[0]) & 255 : this.status);
      case 'export':
        for (const a of args) {
          const eq = a.indexOf('=');
          if (eq > 0) this.env[a.slice(0, eq)] = a.slice(eq + 1);
        }
        return 0;
      case 'umask':
        if (args[0] === undefined) {
          io.stdout.write(`${this.umask.toString(8).padStart(4, '0')}\n`);
          return 0;
        }
        if (!/^[0-7]{1,4}$/.test(args[0])) {
          io.stderr.write(`sh: umask: ${args[0]}: invalid octal number\n`);
          return 1;
        }
        this.umask = parseInt(args[0], 8) & 0o777;
        return 0;
      case 'cd': {
        const dir = SimFs.resolve(args[0] ?? this.env['HOME']!, this.cwd);
        if (!this.fs.isDir(dir)) {
          io.stderr.write(`sh: cd: ${args[0]}: ${this.fs.exists(dir) ? 'Not a directory' : 'No such file or directory'}\n`);
          return 1;
        }
        this.cwd = dir;
        return 0;
      }
      case 'set':
        for (let i = 0; i < args.length; i++) {
          const a = args[i]!;
          if (a === '-o' || a === '+o') {
            if (args[i + 1] === 'pipefail') this.pipefail = a === '-o';
            i++;
            continue;
          }
          if (!/^[-+][euxv]+$/.test(a)) {
            io.stderr.write(`sh: set: ${a}: invalid option\n`);
            return 2;
          }
          const on = a[0] === '-';
          if (a.includes('e')) this.errexit = on;
          if (a.includes('x')) this.xtrace = on;
        }
        return 0;
      default:
        return undefined;
    }
  }

  /** Expands `$NAME`, `${NAME}`, `$?`, `$$` and a leading `~`; an unquoted word that expands to nothing is dropped. */
  private expand(word: Word): string | null {
    let out = '';
    let quoted = false;
    for (const [i, seg] of word.entries()) {
      if (seg.quote !== 'none') quoted = true;
      if (seg.quote === 'single') {
        out += seg.text;
        continue;
      }
      let text = seg.text;
      if (i === 0 && seg.quote === 'none' && (text === '~' || text.startsWith('~/'))) text = this.env['HOME'] + text.slice(1);
      out += text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*)|([?$]))/g, (_m, braced, bare, special) => {
        if (special === '?') return String(this.status);
        if (special === '$') return String(this.options.pid ?? 4242);
        return this.env[(braced ?? bare) as string] ?? '';
      });
    }
    return out === '' && !quoted ? null : out;
  }
}
