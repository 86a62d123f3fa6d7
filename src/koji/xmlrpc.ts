/**
 * XML-RPC as Koji speaks it: `<nil/>` both ways, `<i8>` for integers beyond 32 bits, faults with codes, and
 * keyword arguments as a last struct flagged `__starstar`. This module has the values, the errors and the
 * writing; reading is in xmlrpc-decode.ts.
 */
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
