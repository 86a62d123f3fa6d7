/** Splits a command's output into lines, redacts secrets, and keeps the whole text and the last lines. */

export const TAIL_LINES = 20;
const MAX_KEPT_CHARS = 4 * 1024 * 1024;
const REDACTED = '[redacted]';

/**
 * A redactor for the given secrets. A multi-line secret (a PEM key) is also redacted line by line, so no line
 * of it can surface even when output splits it.
 */
export function createRedactor(secrets: readonly string[] = []): (text: string) => string {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    needles.add(s);
    for (const line of s.split(/\r?\n/)) {
      const t = line.trim();
      if (t.length >= 8 && !/^-----(BEGIN|END) /.test(t)) needles.add(t);
    }
  }
  const list = [...needles].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const n of list) if (out.includes(n)) out = out.split(n).join(REDACTED);
    return out;
  };
}

export type Stream = 'stdout' | 'stderr';

export class OutputCollector {
  private readonly partial: Record<Stream, string> = { stdout: '', stderr: '' };
  private readonly text: Record<Stream, string> = { stdout: '', stderr: '' };
  private readonly lines: string[] = [];
  constructor(
    private readonly redact: (text: string) => string,
    private readonly onLine?: (line: string, stream: Stream) => void,
    /** Drops a line before it is kept or shown (e.g. rekick's own pid marker). */
    private readonly filter?: (line: string, stream: Stream) => boolean,
  ) {}

  push(stream: Stream, chunk: Buffer | string): void {
    const data = this.partial[stream] + chunk.toString('utf8');
    const parts = data.split('\n');
    this.partial[stream] = parts.pop()!;
    for (const p of parts) this.line(stream, p);
  }

  /** Flushes unterminated last lines. */
  end(): void {
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s]) this.line(s, this.partial[s]);
      this.partial[s] = '';
    }
  }

  private line(stream: Stream, raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (this.filter && !this.filter(line, stream)) return;
    const clean = this.redact(line);
    if (this.text[stream].length < MAX_KEPT_CHARS) this.text[stream] += `${clean}\n`;
    this.lines.push(clean);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    this.onLine?.(clean, stream);
  }

  get stdout(): string {
    return this.text.stdout;
  }
  get stderr(): string {
    return this.text.stderr;
  }
  get tail(): string[] {
    return [...this.lines];
  }
}
