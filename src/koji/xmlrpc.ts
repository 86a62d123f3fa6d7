/**
 * XML-RPC as Koji speaks it: `<nil/>` both ways, `<i8>` for integers beyond 32 bits, faults with codes, and
 * keyword arguments as a last struct flagged `__starstar`. Encoding is done here (the npm `xmlrpc` serializer
 * writes large integers as `<int>`); decoding uses the npm `xmlrpc` deserializer (sax underneath), with `<i8>`
 * read as a number (a bigint beyond 2^53) instead of its string.
 */
import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type XmlRpcValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Date
  | Buffer
  | XmlRpcValue[]
  | { [key: string]: XmlRpcValue | undefined };

/** A fault as it travels: Koji's code and string. */
export interface XmlRpcFaultValue {
  faultCode: number;
  faultString: string;
}

/** A fault response decoded from the wire (before Koji's typed errors are applied). */
export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
    this.name = 'XmlRpcFault';
  }
}

/** The answer is not XML-RPC (an HTML error page, a truncated body...). */
export class XmlRpcParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XmlRpcParseError';
  }
}

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Koji's encode_args: keyword arguments become a last struct with `__starstar: true`. */
export function encodeArgs(args: XmlRpcValue[], kwargs?: Record<string, XmlRpcValue | undefined>): XmlRpcValue[] {
  if (!kwargs) return args;
  const defined = Object.entries(kwargs).filter(([, v]) => v !== undefined);
  if (defined.length === 0) return args;
  return [...args, { ...Object.fromEntries(defined), __starstar: true }];
}

/** Koji's decode_args: splits a trailing `__starstar` struct off the positional arguments. */
export function decodeArgs(params: XmlRpcValue[]): { args: XmlRpcValue[]; kwargs: Record<string, XmlRpcValue> } {
  const last = params[params.length - 1];
  if (isStruct(last) && last.__starstar === true) {
    const kwargs: Record<string, XmlRpcValue> = {};
    for (const [k, v] of Object.entries(last)) if (k !== '__starstar' && v !== undefined) kwargs[k] = v;
    return { args: params.slice(0, -1), kwargs };
  }
  return { args: params, kwargs: {} };
}

export function isStruct(v: unknown): v is Record<string, XmlRpcValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

function iso8601(d: Date): string {
  // XML-RPC's dateTime.iso8601 as Python writes it: 20240131T12:34:56 (UTC here)
  return d.toISOString().replace(/-/g, '').replace(/\.\d+Z$/, '');
}

function encodeInteger(n: bigint): string {
  if (n > INT64_MAX || n < INT64_MIN) throw new RangeError(`integer ${n} exceeds XML-RPC's 64-bit limit`);
  if (n > BigInt(INT32_MAX) || n < BigInt(INT32_MIN)) return `<i8>${n}</i8>`;
  return `<int>${n}</int>`;
}

/** One `<value>` element. `undefined` members of structs are left out; `undefined` elsewhere is nil. */
export function encodeValue(value: XmlRpcValue | undefined): string {
  if (value === null || value === undefined) return '<value><nil/></value>';
  switch (typeof value) {
    case 'string':
      return `<value><string>${escapeText(value)}</string></value>`;
    case 'boolean':
      return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
    case 'bigint':
      return `<value>${encodeInteger(value)}</value>`;
    case 'number':
      if (Number.isInteger(value)) return `<value>${encodeInteger(BigInt(value))}</value>`;
      if (!Number.isFinite(value)) throw new RangeError(`cannot send ${value} over XML-RPC`);
      return `<value><double>${value}</double></value>`;
    default:
      break;
  }
  if (value instanceof Date) return `<value><dateTime.iso8601>${iso8601(value)}</dateTime.iso8601></value>`;
  if (Buffer.isBuffer(value)) return `<value><base64>${value.toString('base64')}</base64></value>`;
  if (Array.isArray(value)) return `<value><array><data>${value.map(encodeValue).join('')}</data></array></value>`;
  const members = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<member><name>${escapeText(k)}</name>${encodeValue(v)}</member>`)
    .join('');
  return `<value><struct>${members}</struct></value>`;
}

const HEADER = "<?xml version='1.0'?>\n";

export function encodeMethodCall(method: string, params: XmlRpcValue[]): string {
  const ps = params.map((p) => `<param>${encodeValue(p)}</param>`).join('');
  return `${HEADER}<methodCall>\n<methodName>${escapeText(method)}</methodName>\n<params>${ps}</params>\n</methodCall>\n`;
}

export function encodeMethodResponse(value: XmlRpcValue): string {
  return `${HEADER}<methodResponse>\n<params><param>${encodeValue(value)}</param></params>\n</methodResponse>\n`;
}

export function encodeFault(faultCode: number, faultString: string): string {
  return `${HEADER}<methodResponse>\n<fault>${encodeValue({ faultCode, faultString })}</fault>\n</methodResponse>\n`;
}

interface DeserializerInstance {
  deserializeMethodResponse(stream: NodeJS.ReadableStream, cb: (err: unknown, value?: unknown) => void): void;
  deserializeMethodCall(stream: NodeJS.ReadableStream, cb: (err: unknown, method?: string, params?: unknown[]) => void): void;
  endI8(data: string): void;
  push(value: unknown): void;
  value: boolean;
}

const Deserializer = require('xmlrpc/lib/deserializer') as new (encoding?: string) => DeserializerInstance;

function newDeserializer(): DeserializerInstance {
  const d = new Deserializer('utf8');
  d.endI8 = function endI8(this: DeserializerInstance, data: string) {
    if (!/^[-+]?\d+$/.test(data.trim())) throw new Error(`expected an integer in <i8>, got '${data}'`);
    const big = BigInt(data.trim());
    this.push(big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big);
    this.value = false;
  };
  return d;
}

function streamOf(text: string): PassThrough {
  const s = new PassThrough();
  s.end(text);
  return s;
}

/** Drops prototype-polluting keys a hostile peer could send in a struct. */
function sanitize(v: unknown): XmlRpcValue {
  if (Array.isArray(v)) return v.map(sanitize);
  if (isStruct(v)) {
    const out: Record<string, XmlRpcValue> = Object.create(null);
    for (const [k, val] of Object.entries(v)) if (k !== '__proto__' && k !== 'constructor' && k !== 'prototype') out[k] = sanitize(val);
    return { ...out };
  }
  return v as XmlRpcValue;
}

/** Decodes a methodResponse: the value, or throws XmlRpcFault / XmlRpcParseError. */
export function decodeMethodResponse(text: string): Promise<XmlRpcValue> {
  return new Promise((resolve, reject) => {
    let done = false;
    newDeserializer().deserializeMethodResponse(streamOf(text), (err, value) => {
      if (done) return;
      done = true;
      if (!err) return resolve(sanitize(value));
      const e = err as { faultCode?: unknown; faultString?: unknown; message?: string };
      if (typeof e.faultCode === 'number' || typeof e.faultCode === 'string') {
        reject(new XmlRpcFault(Number(e.faultCode), String(e.faultString ?? '')));
      } else {
        reject(new XmlRpcParseError(`not an XML-RPC answer (${e.message ?? String(err)}): ${text.slice(0, 200)}`, { cause: err }));
      }
    });
  });
}

/** Decodes a methodCall (the stand-in's side). */
export function decodeMethodCall(text: string): Promise<{ method: string; params: XmlRpcValue[] }> {
  return new Promise((resolve, reject) => {
    let done = false;
    newDeserializer().deserializeMethodCall(streamOf(text), (err, method, params) => {
      if (done) return;
      done = true;
      if (err) reject(new XmlRpcParseError(`not an XML-RPC call: ${(err as Error).message ?? String(err)}`, { cause: err }));
      else resolve({ method: method!, params: (params ?? []).map(sanitize) });
    });
  });
}
