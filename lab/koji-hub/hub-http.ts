/** The hub's HTTP plumbing: reading a request body, and the two kinds of answer (an XML-RPC fault, plain text). */
import type http from 'node:http';
import { encodeFault } from '../../src';

export const KOJI_VERSION_HEADER = { 'Koji-Version': '1.35.0' };

export function readBody(req: http.IncomingMessage, max = 16 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) req.destroy(new Error('request too long'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A Koji fault: HTTP 200 with an XML-RPC fault body, as kojixmlrpc answers. */
export function sendFault(res: http.ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  const body = encodeFault(code, text);
  res.writeHead(200, { ...headers, 'Content-Type': 'text/xml', ...KOJI_VERSION_HEADER, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** An answer from the web server itself (404, 405, 403 at ssllogin, 500/503). */
export function sendPlain(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
  res.end(`${text}\n`);
}
