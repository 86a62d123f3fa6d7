/**
 * coreutils and friends on a simulated host: cat mkdir rm test/[ chmod chown mv sha256sum true false echo printf
 * curl uname hostname id sleep, and sh/bash (-c, -s, -e, -x). Messages follow GNU coreutils closely enough that
 * an operator reading a job's output tail recognises them.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { SimHostApi } from '../fleet/sim-host-api';
import { KERNEL_VERSION } from '../fleet/sim-machine';
import { SimFs, SimFsError } from '../fleet/sim-fs';
import { onceSource, type Program, type ProgramContext } from './shell-run';

/** Splits `-rf` style flags off the front of argv (after the name); `--` ends them. */
function splitFlags(args: string[]): { flags: Set<string>; long: string[]; rest: string[] } {
  const flags = new Set<string>();
  const long: string[] = [];
  const rest: string[] = [];
  let done = false;
  for (const a of args) {
    if (done || a === '-' || !a.startsWith('-')) rest.push(a);
    else if (a === '--') done = true;
    else if (a.startsWith('--')) long.push(a);
    else for (const c of a.slice(1)) flags.add(c);
  }
  return { flags, long, rest };
}

function abs(ctx: ProgramContext, p: string): string {
  return SimFs.resolve(p, ctx.shell.cwd);
}

/** Runs `fn` for each operand, reporting filesystem errors as `NAME: MESSAGE`; status 1 if any failed. */
function eachOperand(ctx: ProgramContext, operands: string[], fn: (operand: string) => void, describe: (op: string, err: SimFsError) => string): number {
  let status = 0;
  for (const op of operands) {
    try {
      fn(op);
    } catch (err) {
      if (!(err instanceof SimFsError)) throw err;
      ctx.stderr.write(`${ctx.argv[0]}: ${describe(op, err)}\n`);
      status = 1;
    }
  }
  return status;
}

function parseMode(spec: string, current: number): number | undefined {
  if (/^[0-7]{1,4}$/.test(spec)) return parseInt(spec, 8);
  const m = /^([ugoa]*)([+-=])([rwx]+)$/.exec(spec);
  if (!m) return undefined;
  const who = m[1] || 'a';
  let bits = 0;
  for (const p of m[3]!) bits |= p === 'r' ? 4 : p === 'w' ? 2 : 1;
  let mask = 0;
  if (who.includes('u') || who.includes('a')) mask |= bits << 6;
  if (who.includes('g') || who.includes('a')) mask |= bits << 3;
  if (who.includes('o') || who.includes('a')) mask |= bits;
  if (m[2] === '+') return current | mask;
  if (m[2] === '-') return current & ~mask;
  return mask | (current & 0o7000);
}

/** printf's backslash escapes. */
function unescape(s: string): string {
  return s.replace(/\\(n|t|r|\\|0[0-7]{0,3}|a|b|f|v)/g, (_m, e: string) => {
    switch (e) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '\\':
        return '\\';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      default:
        return String.fromCharCode(parseInt(e.slice(1) || '0', 8));
    }
  });
}

function printf(format: string, args: string[]): string {
  let out = '';
  let i = 0;
  // The format is reused while arguments remain, as printf(1) does.
  do {
    out += unescape(format).replace(/%([-0-9.]*)([sdiuxXo%c])/g, (_m, _width: string, conv: string) => {
      if (conv === '%') return '%';
      const arg = args[i++] ?? '';
      if (conv === 's') return arg;
      if (conv === 'c') return arg.slice(0, 1);
      const n = Number(arg || 0);
      if (conv === 'x') return Math.trunc(n).toString(16);
      if (conv === 'X') return Math.trunc(n).toString(16).toUpperCase();
      if (conv === 'o') return Math.trunc(n).toString(8);
      return String(Math.trunc(n));
    });
  } while (i > 0 && i < args.length);
  return out;
}

/** test / [: the unary file tests, string tests and `=`/`!=`, and `!`. */
function evaluateTest(ctx: ProgramContext, args: string[]): boolean | string {
  if (args[0] === '!') {
    const r = evaluateTest(ctx, args.slice(1));
    return typeof r === 'string' ? r : !r;
  }
  if (args.length === 0) return false;
  if (args.length === 1) return args[0] !== '';
  if (args.length === 2) {
    const [op, operand] = args as [string, string];
    const node = ctx.shell.fs.get(abs(ctx, operand));
    switch (op) {
      case '-e':
        return !!node;
      case '-f':
        return node?.type === 'file';
      case '-d':
        return node?.type === 'dir';
      case '-s':
        return !!node && node.content.length > 0;
      case '-r':
      case '-w':
        return !!node;
      case '-x':
        return !!node && (node.mode & 0o111) !== 0;
      case '-n':
        return operand !== '';
      case '-z':
        return operand === '';
      default:
        return `${op}: unary operator expected`;
    }
  }
  if (args.length === 3) {
    const [a, op, b] = args as [string, string, string];
    if (op === '=' || op === '==') return a === b;
    if (op === '!=') return a !== b;
    const nums: Record<string, (x: number, y: number) => boolean> = {
      '-eq': (x, y) => x === y,
      '-ne': (x, y) => x !== y,
      '-lt': (x, y) => x < y,
      '-le': (x, y) => x <= y,
      '-gt': (x, y) => x > y,
      '-ge': (x, y) => x >= y,
    };
    if (nums[op]) return nums[op](Number(a), Number(b));
    return `${op}: binary operator expected`;
  }
  return 'too many arguments';
}

export function corePrograms(host: SimHostApi): Map<string, Program> {
  const fs = host.machine.fs;
  const programs = new Map<string, Program>();

  programs.set('true', () => 0);
  programs.set('false', () => 1);

  programs.set('echo', (ctx) => {
    let args = ctx.argv.slice(1);
    let newline = true;
    let escapes = false;
    while (args[0] && /^-[neE]+$/.test(args[0])) {
      if (args[0].includes('n')) newline = false;
      if (args[0].includes('e')) escapes = true;
      args = args.slice(1);
    }
    const text = args.join(' ');
    ctx.stdout.write((escapes ? unescape(text) : text) + (newline ? '\n' : ''));
    return 0;
  });

  programs.set('printf', (ctx) => {
    if (ctx.argv.length < 2) {
      ctx.stderr.write('printf: usage: printf format [arguments]\n');
      return 2;
    }
    ctx.stdout.write(printf(ctx.argv[1]!, ctx.argv.slice(2)));
    return 0;
  });

  programs.set('cat', async (ctx) => {
    const { rest } = splitFlags(ctx.argv.slice(1));
    if (!rest.length) rest.push('-');
    let status = 0;
    for (const f of rest) {
      if (f === '-') {
        ctx.stdout.write(await ctx.stdin.read());
        continue;
      }
      try {
        ctx.stdout.write(fs.read(abs(ctx, f)));
      } catch (err) {
        if (!(err instanceof SimFsError)) throw err;
        ctx.stderr.write(`cat: ${f}: ${err.reason}\n`);
        status = 1;
      }
    }
    return status;
  });

  programs.set('mkdir', (ctx) => {
    const args = ctx.argv.slice(1);
    let mode: number | undefined;
    const mi = args.findIndex((a) => a === '-m');
    if (mi >= 0) {
      mode = parseInt(args[mi + 1] ?? '', 8);
      args.splice(mi, 2);
    }
    const { flags, long, rest } = splitFlags(args);
    const parents = flags.has('p') || long.includes('--parents');
    if (!rest.length) {
      ctx.stderr.write('mkdir: missing operand\n');
      return 1;
    }
    return eachOperand(ctx, rest, (d) => fs.mkdir(abs(ctx, d), { parents, mode }), (d, e) => `cannot create directory '${d}': ${e.reason}`);
  });

  programs.set('rm', (ctx) => {
    const { flags, long, rest } = splitFlags(ctx.argv.slice(1));
    const force = flags.has('f') || long.includes('--force');
    const recursive = flags.has('r') || flags.has('R') || long.includes('--recursive');
    if (!rest.length && !force) {
      ctx.stderr.write('rm: missing operand\n');
      return 1;
    }
    return eachOperand(ctx, rest, (f) => fs.remove(abs(ctx, f), { force, recursive }), (f, e) => `cannot remove '${f}': ${e.reason}`);
  });

  const testProgram: Program = (ctx) => {
    let args = ctx.argv.slice(1);
    if (ctx.argv[0] === '[') {
      if (args[args.length - 1] !== ']') {
        ctx.stderr.write("[: missing ']'\n");
        return 2;
      }
      args = args.slice(0, -1);
    }
    const r = evaluateTest(ctx, args);
    if (typeof r === 'string') {
      ctx.stderr.write(`${ctx.argv[0]}: ${r}\n`);
      return 2;
    }
    return r ? 0 : 1;
  };
  programs.set('test', testProgram);
  programs.set('[', testProgram);

  programs.set('chmod', (ctx) => {
    const [spec, ...files] = ctx.argv.slice(1).filter((a) => a !== '--' && !/^-[Rvfc]+$/.test(a));
    if (!spec || !files.length) {
      ctx.stderr.write(`chmod: missing operand\n`);
      return 1;
    }
    if (parseMode(spec, 0) === undefined) {
      ctx.stderr.write(`chmod: invalid mode: '${spec}'\n`);
      return 1;
    }
    return eachOperand(
      ctx,
      files,
      (f) => {
        const node = fs.get(abs(ctx, f));
        if (!node) throw new SimFsError('ENOENT', f);
        fs.chmod(abs(ctx, f), parseMode(spec, node.mode)!);
      },
      (f, e) => `cannot access '${f}': ${e.reason}`,
    );
  });

  programs.set('chown', (ctx) => {
    const { rest } = splitFlags(ctx.argv.slice(1));
    const [spec, ...files] = rest;
    if (!spec || !files.length) {
      ctx.stderr.write('chown: missing operand\n');
      return 1;
    }
    const [owner, group] = spec.split(/[:.]/) as [string, string | undefined];
    const known = new Set(['root', 'kojibuilder', 'nobody', 'mock', 'qemu', '']);
    if (!known.has(owner)) {
      ctx.stderr.write(`chown: invalid user: '${spec}'\n`);
      return 1;
    }
    if (group !== undefined && !known.has(group)) {
      ctx.stderr.write(`chown: invalid group: '${spec}'\n`);
      return 1;
    }
    return eachOperand(ctx, files, (f) => fs.chown(abs(ctx, f), owner || undefined, group || undefined), (f, e) => `cannot access '${f}': ${e.reason}`);
  });

  programs.set('mv', (ctx) => {
    const { rest } = splitFlags(ctx.argv.slice(1));
    if (rest.length < 2) {
      ctx.stderr.write(`mv: missing destination file operand after '${rest[0] ?? ''}'\n`);
      return 1;
    }
    const dest = rest.pop()!;
    const destAbs = abs(ctx, dest);
    const intoDir = fs.isDir(destAbs);
    if (rest.length > 1 && !intoDir) {
      ctx.stderr.write(`mv: target '${dest}': Not a directory\n`);
      return 1;
    }
    return eachOperand(
      ctx,
      rest,
      (src) => {
        const from = abs(ctx, src);
        fs.rename(from, intoDir ? SimFs.resolve(from.split('/').pop()!, destAbs) : destAbs);
      },
      (src, e) => `cannot move '${src}' to '${dest}': ${e.reason}`,
    );
  });

  programs.set('sha256sum', async (ctx) => {
    const { flags, rest } = splitFlags(ctx.argv.slice(1));
    if (flags.has('c')) {
      ctx.stderr.write('sha256sum: --check is not simulated\n');
      return 1;
    }
    if (!rest.length) rest.push('-');
    let status = 0;
    for (const f of rest) {
      try {
        const data = f === '-' ? await ctx.stdin.read() : fs.read(abs(ctx, f));
        ctx.stdout.write(`${createHash('sha256').update(data).digest('hex')}  ${f}\n`);
      } catch (err) {
        if (!(err instanceof SimFsError)) throw err;
        ctx.stderr.write(`sha256sum: ${f}: ${err.reason}\n`);
        status = 1;
      }
    }
    return status;
  });

  programs.set('curl', (ctx) => {
    const args = ctx.argv.slice(1);
    let output: string | undefined;
    let fail = false;
    let silent = false;
    let showError = false;
    let url: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-o' || a === '--output') output = args[++i];
      else if (a === '--fail') fail = true;
      else if (a === '--silent') silent = true;
      else if (a === '--show-error') showError = true;
      else if (a === '--location' || a === '--retry' || a === '--connect-timeout' || a === '--max-time') {
        if (a !== '--location') i++;
      } else if (/^-[a-zA-Z]+$/.test(a)) {
        for (const c of a.slice(1)) {
          if (c === 'f') fail = true;
          else if (c === 's') silent = true;
          else if (c === 'S') showError = true;
          else if (c === 'o') output = args[++i];
        }
      } else url = a;
    }
    if (!url) {
      ctx.stderr.write('curl: no URL specified\n');
      return 2;
    }
    const failure = host.curlFailure(url);
    if (failure) {
      if (!silent || showError) ctx.stderr.write(`curl: (${failure.code}) ${failure.message}\n`);
      return failure.code === 22 && !fail ? 0 : failure.code;
    }
    const body = `simulated download of ${url}\n`;
    if (output === undefined || output === '-') {
      ctx.stdout.write(body);
      return 0;
    }
    try {
      fs.write(abs(ctx, output), body);
    } catch (err) {
      if (!(err instanceof SimFsError)) throw err;
      if (!silent || showError) ctx.stderr.write(`curl: (23) Failure writing output to destination, passed ${body.length} returned 0\n`);
      return 23;
    }
    return 0;
  });

  programs.set('uname', (ctx) => {
    const { flags } = splitFlags(ctx.argv.slice(1));
    const m = host.machine;
    const kernel = `${KERNEL_VERSION}.${m.arch}`;
    if (flags.has('a')) ctx.stdout.write(`Linux ${m.hostname} ${kernel} #1 SMP PREEMPT_DYNAMIC ${m.arch} GNU/Linux\n`);
    else if (flags.has('r')) ctx.stdout.write(`${kernel}\n`);
    else if (flags.has('m') || flags.has('p')) ctx.stdout.write(`${m.arch}\n`);
    else if (flags.has('n')) ctx.stdout.write(`${m.hostname}\n`);
    else ctx.stdout.write('Linux\n');
    return 0;
  });

  programs.set('hostname', (ctx) => {
    if (ctx.argv.length > 1 && !ctx.argv[1]!.startsWith('-')) {
      host.machine.hostname = ctx.argv[1]!;
      return 0;
    }
    const h = host.machine.hostname;
    ctx.stdout.write(`${ctx.argv[1] === '-s' ? h.split('.')[0] : h}\n`);
    return 0;
  });

  programs.set('id', (ctx) => {
    const { flags } = splitFlags(ctx.argv.slice(1));
    if (flags.has('u')) ctx.stdout.write(flags.has('n') ? 'root\n' : '0\n');
    else if (flags.has('g')) ctx.stdout.write(flags.has('n') ? 'root\n' : '0\n');
    else ctx.stdout.write('uid=0(root) gid=0(root) groups=0(root)\n');
    return 0;
  });

  programs.set('sleep', async (ctx) => {
    const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(ctx.argv[1] ?? '');
    if (!m) {
      ctx.stderr.write(`sleep: invalid time interval '${ctx.argv[1] ?? ''}'\n`);
      return 1;
    }
    const ms = Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 1000);
    try {
      await sleepFor(ms, undefined, { signal: ctx.signal });
    } catch {
      return 143; // the connection went away: like a SIGTERM'd sleep
    }
    return 0;
  });

  const sh: Program = async (ctx) => {
    const args = ctx.argv.slice(1);
    const child = ctx.shell.child();
    let script: string | undefined;
    let fromStdin = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-c') {
        script = args[i + 1] ?? '';
        break;
      }
      if (/^-[exsu]+$/.test(a) || /^\+[ex]+$/.test(a)) {
        const on = a[0] === '-';
        child.setOptions({ errexit: a.includes('e') ? on : undefined, xtrace: a.includes('x') ? on : undefined });
        if (a.includes('s')) fromStdin = true;
        continue;
      }
      if (a.startsWith('-')) {
        ctx.stderr.write(`${ctx.argv[0]}: ${a}: invalid option\n`);
        return 2;
      }
      // sh FILE
      try {
        script = fs.readText(abs(ctx, a));
      } catch (err) {
        if (!(err instanceof SimFsError)) throw err;
        ctx.stderr.write(`${ctx.argv[0]}: ${a}: ${err.reason}\n`);
        return 127;
      }
      break;
    }
    let stdin = ctx.stdin;
    if (script === undefined || fromStdin) {
      script = (await ctx.stdin.read()).toString('utf8');
      stdin = onceSource(async () => Buffer.alloc(0));
    }
    return child.run(script, { stdin, stdout: ctx.stdout, stderr: ctx.stderr });
  };
  programs.set('sh', sh);
  programs.set('bash', sh);

  return programs;
}
