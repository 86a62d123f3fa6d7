/** XML-RPC scalars from their text (`<int>`, `<i8>` as a bigint beyond 2^53, dates in UTC, base64...) and entities. */
import type { XmlRpcValue } from './values';

/** What the reader found wrong (turned into an XmlRpcParseError with the text's beginning). */
export class ParseFailure extends Error {}

const ENTITY = /&([^&;<]*)(;?)/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Text with its entities and character references replaced. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (_, ref: string, semi: string) => {
    if (!semi) throw new ParseFailure("a bare '&' in text");
    if (ref[0] !== '#') {
      const named = NAMED[ref];
      if (named === undefined) throw new ParseFailure(`an unknown entity &${ref.slice(0, 20)};`);
      return named;
    }
    const code = /^#x[0-9A-Fa-f]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
    if (!(code > 0 && code <= 0x10ffff)) throw new ParseFailure(`a bad character reference &${ref.slice(0, 20)};`);
    return String.fromCodePoint(code);
  });
}

const INTEGER = /^[-+]?\d+$/;
const DOUBLE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATETIME = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|[-+]\d{2}:?\d{2})?$/;

/** A scalar of the given type from its text. */
export function scalar(type: string, raw: string): XmlRpcValue {
  switch (type) {
    case 'string':
      return raw;
    case 'nil':
      if (raw.trim() !== '') throw new ParseFailure('text inside <nil/>');
      return null;
    case 'boolean': {
      const b = raw.trim();
      if (b !== '0' && b !== '1') throw new ParseFailure(`expected 0 or 1 in <boolean>, got '${b.slice(0, 40)}'`);
      return b === '1';
    }
    case 'int':
    case 'i4': {
      const n = raw.trim();
      if (!INTEGER.test(n)) throw new ParseFailure(`expected an integer in <${type}>, got '${n.slice(0, 40)}'`);
      const v = Number(n);
      if (!(v >= -(2 ** 31) && v < 2 ** 31)) throw new ParseFailure(`<${type}>${n}</${type}> is beyond 32 bits`);
      return v;
    }
    case 'i8': {
      const n = raw.trim();
      if (!INTEGER.test(n)) throw new ParseFailure(`expected an integer in <i8>, got '${n.slice(0, 40)}'`);
      const big = BigInt(n);
      return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big;
    }
    case 'double': {
      const n = raw.trim();
      if (!DOUBLE.test(n)) throw new ParseFailure(`expected a number in <double>, got '${n.slice(0, 40)}'`);
      return Number(n);
    }
    case 'dateTime.iso8601': {
      const m = DATETIME.exec(raw.trim());
      if (!m) throw new ParseFailure(`expected a date in <dateTime.iso8601>, got '${raw.trim().slice(0, 40)}'`);
      const [, y, mo, d, h, mi, s, frac, zone] = m;
      const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac ?? ''}${!zone || zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`;
      const date = new Date(iso);
      if (Number.isNaN(date.getTime())) throw new ParseFailure(`a date out of range in <dateTime.iso8601>: '${raw.trim()}'`);
      return date;
    }
    case 'base64': {
      const b = raw.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b)) throw new ParseFailure('bad base64 in <base64>');
      return Buffer.from(b, 'base64');
    }
    default:
      throw new ParseFailure(`an unknown value type <${type}>`);
  }
}
