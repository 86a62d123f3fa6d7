/**
 * Reading XML-RPC: a methodResponse (rekick's side) or a methodCall (the hub stand-in's side), as Python's
 * xmlrpc.client and Koji write them: untyped values are strings, `<nil/>`, `<i8>` (a number, or a bigint beyond
 * 2^53), `<dateTime.iso8601>` (UTC), `<base64>`, faults with codes. Namespace prefixes are ignored (`<ex:nil/>`).
 *
 * XML-RPC uses a small corner of XML: elements without meaningful attributes, text, the five predefined entities
 * and character references, comments, CDATA. This reader knows exactly that corner and refuses the rest (a DOCTYPE,
 * an unknown entity, a stray element, nesting past MAX_DEPTH) with an XmlRpcParseError, so a hostile or broken
 * answer cannot grow memory or recurse without bound. Why not a general XML library: the answer of every Koji call
 * went through the `xmlrpc` package's stream deserializer and `sax`'s character-by-character parser, ~0.15 ms of
 * CPU per call, 5% of rekick's CPU over a 1,000-host rolling run (bench/README.md); this reader takes a fraction.
 */
import { XmlRpcFault, XmlRpcParseError, isStruct, type XmlRpcValue } from './xmlrpc';

/** Deeper nesting than any Koji answer has: refused, not recursed into. */
const MAX_DEPTH = 64;

/** Decodes a methodResponse: the value, or throws XmlRpcFault (the hub's fault) / XmlRpcParseError. */
export async function decodeMethodResponse(text: string): Promise<XmlRpcValue> {
  const r = new Reader(text);
  try {
    r.prolog();
    r.open('methodResponse');
    if (r.peekOpen('fault')) {
      r.open('fault');
      const fault = r.value(0);
      r.close('fault');
      r.close('methodResponse');
      r.end();
      const struct: Record<string, XmlRpcValue | undefined> = isStruct(fault) ? fault : {};
      const code = struct.faultCode;
      if (typeof code !== 'number' && typeof code !== 'string') throw new ParseFailure('a fault without a faultCode');
      throw new XmlRpcFault(Number(code), String(struct.faultString ?? ''));
    }
    r.open('params');
    r.open('param');
    const value = r.value(0);
    r.close('param');
    r.close('params');
    r.close('methodResponse');
    r.end();
    return value;
  } catch (err) {
    throw asParseError(err, 'not an XML-RPC answer', text);
  }
}

/** Decodes a methodCall: its method name and parameters, or throws XmlRpcParseError. */
export async function decodeMethodCall(text: string): Promise<{ method: string; params: XmlRpcValue[] }> {
  const r = new Reader(text);
  try {
    r.prolog();
    r.open('methodCall');
    r.open('methodName');
    const method = r.text().trim();
    r.close('methodName');
    if (!/^[A-Za-z0-9_.:/]+$/.test(method)) throw new ParseFailure(`a bad method name '${method.slice(0, 80)}'`);
    const params: XmlRpcValue[] = [];
    if (r.peekOpen('params') && !r.open('params')) {
      while (r.peekOpen('param')) {
        r.open('param');
        params.push(r.value(0));
        r.close('param');
      }
      r.close('params');
    }
    r.close('methodCall');
    r.end();
    return { method, params };
  } catch (err) {
    throw asParseError(err, 'not an XML-RPC call', text);
  }
}

/** What the reader found wrong (turned into an XmlRpcParseError with the text's beginning). */
class ParseFailure extends Error {}

function asParseError(err: unknown, what: string, text: string): Error {
  if (err instanceof XmlRpcFault) return err;
  const reason = err instanceof ParseFailure ? err.message : `${(err as Error)?.message ?? String(err)}`;
  return new XmlRpcParseError(`${what} (${reason}): ${text.slice(0, 200)}`, { cause: err });
}

type Token = { kind: 'open'; name: string; empty: boolean } | { kind: 'close'; name: string } | { kind: 'text'; text: string };

/** A tag: `<name attr="...">`, `<name/>` or `</name>`; the name's namespace prefix is dropped. */
const TAG = /<(\/?)(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ENTITY = /&([^&;<]*)(;?)/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** What may stand between tags besides text: skipped, or (CDATA) taken as text as it is. */
const SECTIONS = [
  { open: '<!--', close: '-->', what: 'comment', isText: false },
  { open: '<![CDATA[', close: ']]>', what: 'CDATA section', isText: true },
  { open: '<?', close: '?>', what: 'processing instruction', isText: false },
];

class Reader {
  private pos = 0;
  private peeked: Token | undefined;

  constructor(private readonly src: string) {}

  /** A byte order mark at the start (the XML declaration, comments and whitespace are skipped as anywhere). */
  prolog(): void {
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  /** Nothing but whitespace and comments may follow the root element. */
  end(): void {
    this.skipSpace();
    const t = this.next();
    if (t) throw new ParseFailure(`unexpected ${describe(t)} after the end`);
  }

  /** Consumes `<name>` (false) or `<name/>` (true: the element is empty), after any whitespace. */
  open(name: string): boolean {
    this.skipSpace();
    const t = this.next();
    if (t?.kind !== 'open' || t.name !== name) throw new ParseFailure(`expected <${name}>, found ${describe(t)}`);
    return t.empty;
  }

  close(name: string): void {
    this.skipSpace();
    const t = this.next();
    if (t?.kind !== 'close' || t.name !== name) throw new ParseFailure(`expected </${name}>, found ${describe(t)}`);
  }

  peekOpen(name: string): boolean {
    this.skipSpace();
    const t = this.peek();
    return t?.kind === 'open' && t.name === name;
  }

  /** The text up to the next tag ('' when a tag follows at once). */
  text(): string {
    const t = this.peek();
    if (t?.kind !== 'text') return '';
    this.peeked = undefined;
    return t.text;
  }

  /** A `<value>...</value>`, its opening tag next. */
  value(depth: number): XmlRpcValue {
    if (depth > MAX_DEPTH) throw new ParseFailure(`values nested deeper than ${MAX_DEPTH}`);
    if (this.open('value')) return '';
    const leading = this.text();
    const t = this.peek();
    if (t?.kind === 'close') {
      this.close('value');
      return leading; // untyped: a string
    }
    if (leading.trim() !== '') throw new ParseFailure(`text '${leading.trim().slice(0, 40)}' before a typed value`);
    if (t?.kind !== 'open') throw new ParseFailure(`expected a value, found ${describe(t)}`);
    const v = this.typed(t.name, depth);
    this.close('value');
    return v;
  }

  private typed(type: string, depth: number): XmlRpcValue {
    const empty = this.open(type);
    if (type === 'array') {
      const items: XmlRpcValue[] = [];
      if (empty) throw new ParseFailure('an <array/> without <data>');
      if (!this.open('data')) {
        while (this.peekOpen('value')) items.push(this.value(depth + 1));
        this.close('data');
      }
      this.close('array');
      return items;
    }
    if (type === 'struct') {
      const out: Record<string, XmlRpcValue> = {};
      if (empty) return out;
      while (this.peekOpen('member')) {
        this.open('member');
        const name = this.open('name') ? '' : this.closeText('name');
        const v = this.value(depth + 1);
        this.close('member');
        // Prototype-polluting keys a hostile peer could send are dropped.
        if (name !== '__proto__' && name !== 'constructor' && name !== 'prototype') out[name] = v;
      }
      this.close('struct');
      return out;
    }
    const raw = empty ? '' : this.closeText(type);
    return scalar(type, raw);
  }

  /** The text of an element whose opening tag was read, then its closing tag. */
  private closeText(name: string): string {
    const s = this.text();
    this.close(name);
    return s;
  }

  private skipSpace(): void {
    const t = this.peek();
    if (t?.kind === 'text') {
      if (t.text.trim() !== '') throw new ParseFailure(`unexpected text '${t.text.trim().slice(0, 40)}'`);
      this.peeked = undefined;
    }
  }

  private peek(): Token | undefined {
    return (this.peeked ??= this.read());
  }

  private next(): Token | undefined {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  /**
   * The next token, skipping the XML declaration, processing instructions and comments. Text runs are merged
   * across comments and CDATA sections; text outside the root is only whitespace, checked by the callers.
   */
  private read(): Token | undefined {
    const src = this.src;
    let text = '';
    let sawText = false;
    for (;;) {
      if (this.pos >= src.length) return sawText ? { kind: 'text', text } : undefined;
      const lt = src.indexOf('<', this.pos);
      if (lt !== this.pos) {
        const to = lt === -1 ? src.length : lt;
        text += decodeEntities(src.slice(this.pos, to));
        sawText = true;
        this.pos = to;
        continue;
      }
      const section = SECTIONS.find((x) => src.startsWith(x.open, lt));
      if (section) {
        const endAt = src.indexOf(section.close, lt + section.open.length);
        if (endAt === -1) throw new ParseFailure(`an unterminated ${section.what}`);
        if (section.isText) {
          text += src.slice(lt + section.open.length, endAt);
          sawText = true;
        }
        this.pos = endAt + section.close.length;
        continue;
      }
      if (src.startsWith('<!', lt)) throw new ParseFailure('a DOCTYPE or other declaration (not allowed in XML-RPC)');
      if (sawText) return { kind: 'text', text };
      TAG.lastIndex = lt;
      const m = TAG.exec(src);
      if (!m) throw new ParseFailure(`a malformed tag at '${src.slice(lt, lt + 40)}'`);
      this.pos = TAG.lastIndex;
      if (m[1]) {
        if (m[4] || m[3]) throw new ParseFailure(`a malformed closing tag </${m[2]}>`);
        return { kind: 'close', name: m[2]! };
      }
      return { kind: 'open', name: m[2]!, empty: m[4] === '/' };
    }
  }
}

function describe(t: Token | undefined): string {
  if (!t) return 'the end of the text';
  if (t.kind === 'text') return `text '${t.text.trim().slice(0, 40)}'`;
  return t.kind === 'open' ? `<${t.name}${t.empty ? '/' : ''}>` : `</${t.name}>`;
}

function decodeEntities(s: string): string {
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
function scalar(type: string, raw: string): XmlRpcValue {
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
