/** Writing XML-RPC as Koji reads it: `<nil/>`, `<i8>` beyond 32 bits, dates in UTC, faults with codes. */
import type { XmlRpcValue } from './values';

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

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
