/**
 * A reader for the small corner of XML that XML-RPC uses (elements, text, the predefined entities, character
 * references, comments, CDATA); it refuses the rest (a DOCTYPE, an unknown entity, nesting past MAX_DEPTH), so a
 * hostile answer cannot grow memory or recurse without bound. Far cheaper per call than a general XML parser
 * (bench/README.md). Namespace prefixes are ignored (`<ex:nil/>`).
 */
import { ParseFailure, decodeEntities, scalar } from './scalars';
import type { XmlRpcValue } from './values';

/** Deeper nesting than any Koji answer has: refused, not recursed into. */
const MAX_DEPTH = 64;

type Token = { kind: 'open'; name: string; empty: boolean } | { kind: 'close'; name: string } | { kind: 'text'; text: string };

/** A tag: `<name attr="...">`, `<name/>` or `</name>`; the name's namespace prefix is dropped. */
const TAG = /<(\/?)(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
/** What may stand between tags besides text: skipped, or (CDATA) taken as text as it is. */
const SECTIONS = [
  { open: '<!--', close: '-->', what: 'comment', isText: false },
  { open: '<![CDATA[', close: ']]>', what: 'CDATA section', isText: true },
  { open: '<?', close: '?>', what: 'processing instruction', isText: false },
];

export class Reader {
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
