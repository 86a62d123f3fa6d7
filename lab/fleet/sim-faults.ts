/** Faults a test or the lab can inject into a simulated host, and matching commands and URLs against them. */

/** A command (its argv joined by spaces) or URL: a substring or a regular expression. */
export type Pattern = string | RegExp;

export type Fault =
  /** A program whose command line matches exits with `code` (default 1), printing `stderr`. */
  | { kind: 'fail'; match: Pattern; code?: number; stderr?: string; times?: number }
  /** A matching program never finishes (until the connection closes). */
  | { kind: 'hang'; match: Pattern; times?: number }
  /** The connection is cut while a matching program runs (no exit status reaches the client). */
  | { kind: 'drop'; match: Pattern; times?: number }
  /** curl of a matching URL fails: exit `code` (default 22, HTTP 404) with curl's message. */
  | { kind: 'curl-fail'; url: Pattern; code?: number; message?: string; times?: number }
  /** Nothing listens: connections are refused until the fault is cleared. */
  | { kind: 'refuse' }
  /** The next boot (reboot or install) never finishes; clearing the fault lets it finish then. */
  | { kind: 'no-return' }
  /**
   * Installs do not happen: a reboot into the installer (or a virt-install) boots the old system again, with its
   * old host key and machine-id, as when grub does not take the one-time entry (`GRUB_DEFAULT` not `saved`).
   */
  | { kind: 'skip-install' };

/** Clears the fault it was returned for. */
export type ClearFault = () => void;

export function matches(pattern: Pattern, text: string): boolean {
  return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
}

/** The active faults of one host; `times` counts down and removes a fault when it reaches 0. */
export class FaultSet {
  private faults: Fault[] = [];

  constructor(private readonly onChange: () => void) {}

  add(fault: Fault): ClearFault {
    this.faults.push({ ...fault });
    const added = this.faults[this.faults.length - 1]!;
    this.onChange();
    return () => {
      const before = this.faults.length;
      this.faults = this.faults.filter((f) => f !== added);
      if (this.faults.length !== before) this.onChange();
    };
  }

  clear(): void {
    this.faults = [];
    this.onChange();
  }

  has(kind: 'refuse' | 'no-return' | 'skip-install'): boolean {
    return this.faults.some((f) => f.kind === kind);
  }

  /** The first command fault matching `command`, used up once. */
  takeCommandFault(command: string): Extract<Fault, { kind: 'fail' | 'hang' | 'drop' }> | undefined {
    const f = this.faults.find((x): x is Extract<Fault, { kind: 'fail' | 'hang' | 'drop' }> => (x.kind === 'fail' || x.kind === 'hang' || x.kind === 'drop') && matches(x.match, command));
    if (f) this.useOnce(f);
    return f;
  }

  takeCurlFault(url: string): Extract<Fault, { kind: 'curl-fail' }> | undefined {
    const f = this.faults.find((x): x is Extract<Fault, { kind: 'curl-fail' }> => x.kind === 'curl-fail' && matches(x.url, url));
    if (f) this.useOnce(f);
    return f;
  }

  private useOnce(f: Fault & { times?: number }): void {
    if (f.times === undefined) return;
    f.times -= 1;
    if (f.times <= 0) {
      this.faults = this.faults.filter((x) => x !== f);
      this.onChange();
    }
  }
}
