/**
 * One HTTP(S) POST of an XML-RPC body, bounded by an AbortSignal, and the classification of what can go wrong:
 * worth retrying (connection refused/reset, timeout, 5xx) or not (certificate problems, other HTTP errors).
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface PostOptions {
  agent: http.Agent | https.Agent;
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Largest answer accepted (bytes). */
  maxBytes?: number;
}

export function postXml(url: URL, body: string, options: PostOptions): Promise<HttpAnswer> {
  const mod = url.protocol === 'https:' ? https : http;
  const payload = Buffer.from(body, 'utf8');
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'POST',
        agent: options.agent,
        signal: options.signal,
        headers: {
          ...options.headers,
          'Content-Type': 'text/xml',
          'Content-Length': String(payload.length),
          'User-Agent': 'rekick (koji/1)',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new Error(`answer larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Node's codes for certificate problems: retrying does not help, an admin must act. */
const SERVER_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export type FailureKind = 'server-cert' | 'tls-alert' | 'tls-version' | 'tls-other' | 'transport';

/** What kind of failure an error from postXml is. */
export function classifyError(err: unknown): FailureKind {
  const code = String((err as { code?: unknown })?.code ?? '');
  if (SERVER_CERT_CODES.has(code)) return 'server-cert';
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE/.test(code)) return 'tls-version';
  if (/^ERR_SSL_.*ALERT/.test(code)) return 'tls-alert';
  if (/^ERR_SSL_/.test(code)) return 'tls-other';
  return 'transport';
}

export function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const msg = typeof e?.message === 'string' ? e.message.split('\n')[0]!.replace(/^[0-9A-F]+:error:[0-9A-F]+:/, '') : String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
