/** Runs Debian's `openssl` CLI; a failure says which command failed and what openssl printed. */
import { execFile } from 'node:child_process';
import { CodedError } from '../../src';

export class PkiError extends CodedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_PKI', message, options);
  }
}

export function openssl(args: string[], options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd: options.cwd, timeout: options.timeoutMs ?? 30_000, env: options.env ? { ...process.env, ...options.env } : process.env }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new PkiError(
            missing
              ? 'the openssl command was not found: install the openssl package (apt-get install openssl)'
              : `openssl ${args[0]} failed: ${String(stderr).trim() || err.message}`,
            { cause: err },
          ),
        );
        return;
      }
      resolve(String(stdout));
    });
  });
}
