/**
 * The simulated builders' shell grammar: POSIX-ish command lines with `;` `&&` `||` `|` `!`, quoting ('', "",
 * backslash), `$NAME` / `${NAME}` / `$?`, `~`, and redirections (`>`, `>>`, `<`, `N>&M`, `&>`). Anything beyond
 * that (subshells, `$(...)`, backquotes, background jobs, control flow) is a syntax error, so a driver that needs
 * it shows up in tests instead of silently doing the wrong thing.
 */

/** One piece of a word and how it was quoted (decides `$` expansion). */
export interface Segment {
  text: string;
  quote: 'none' | 'single' | 'double';
}

export type Word = Segment[];

export interface Redirect {
  fd: number;
  op: '>' | '>>' | '<' | '>&' | '&>';
  /** A file name, or for `>&` the descriptor number it copies. */
  target: Word | number;
}

export interface SimpleCommand {
  kind?: undefined;
  words: Word[];
  redirects: Redirect[];
}

/** `( list )` runs in a subshell (its own variables, options, umask and exit); `{ list; }` in this shell. */
export interface GroupCommand {
  kind: 'subshell' | 'brace';
  body: Script;
  redirects: Redirect[];
}

export type Command = SimpleCommand | GroupCommand;

export interface Pipeline {
  negate: boolean;
  commands: Command[];
}

export interface AndOrList {
  first: Pipeline;
  rest: { op: '&&' | '||'; pipeline: Pipeline }[];
}

export type Script = AndOrList[];

export class ShellSyntaxError extends Error {}

type Token =
  | { kind: 'word'; word: Word }
  | { kind: 'op'; op: '&&' | '||' | '|' | ';' | '!' | 'nl' | '(' | ')' }
  | { kind: 'redirect'; fd: number; op: Redirect['op'] };

const CONTROL_WORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'function']);

const UNSUPPORTED = new Map([['`', 'command substitution with backquotes']]);

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let word: Word | null = null;
  let plain = ''; // unquoted text being collected into `word`
  const flushPlain = () => {
    if (plain) {
      (word ??= []).push({ text: plain, quote: 'none' });
      plain = '';
    }
  };
  const endWord = () => {
    flushPlain();
    if (word) tokens.push({ kind: 'word', word });
    word = null;
  };
  const startWord = () => {
    word ??= [];
  };

  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
    } else if (c === '\n') {
      endWord();
      tokens.push({ kind: 'op', op: 'nl' });
      i++;
    } else if (c === '#' && word === null && plain === '') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError("unterminated quoted string (')");
      flushPlain();
      startWord();
      word!.push({ text: src.slice(i + 1, end), quote: 'single' });
      i = end + 1;
    } else if (c === '"') {
      flushPlain();
      startWord();
      let text = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ShellSyntaxError('unterminated quoted string (")');
        const d = src[i]!;
        if (d === '"') break;
        if (d === '`') throw new ShellSyntaxError('unsupported by the simulator: command substitution with backquotes');
        if (d === '$' && src[i + 1] === '(') throw new ShellSyntaxError('unsupported by the simulator: command substitution $(...)');
        if (d === '\\' && i + 1 < src.length && '$`"\\\n'.includes(src[i + 1]!)) {
          if (src[i + 1] === '$') {
            // An escaped dollar is literal: its own unexpanded segment.
            word!.push({ text, quote: 'double' }, { text: '$', quote: 'single' });
            text = '';
          } else if (src[i + 1] !== '\n') text += src[i + 1];
          i += 2;
          continue;
        }
        text += d;
        i++;
      }
      word!.push({ text, quote: 'double' });
      i++;
    } else if (c === '\\') {
      if (next === undefined) throw new ShellSyntaxError('a backslash at the end of the line');
      if (next !== '\n') {
        flushPlain();
        startWord();
        word!.push({ text: next, quote: 'single' });
      }
      i += 2;
    } else if (c === '&' && next === '&') {
      endWord();
      tokens.push({ kind: 'op', op: '&&' });
      i += 2;
    } else if (c === '|' && next === '|') {
      endWord();
      tokens.push({ kind: 'op', op: '||' });
      i += 2;
    } else if (c === '|') {
      endWord();
      tokens.push({ kind: 'op', op: '|' });
      i++;
    } else if (c === ';') {
      if (next === ';') throw new ShellSyntaxError('unexpected ";;"');
      endWord();
      tokens.push({ kind: 'op', op: ';' });
      i++;
    } else if (c === '&' && next === '>') {
      endWord();
      tokens.push({ kind: 'redirect', fd: 1, op: '&>' });
      i += 2;
    } else if (c === '&') {
      throw new ShellSyntaxError('unsupported by the simulator: background jobs "&"');
    } else if (c === '>' || c === '<') {
      // A word of digits right before it is the descriptor: 2>&1, 2>/dev/null.
      let fd = c === '>' ? 1 : 0;
      if (word === null && /^\d+$/.test(plain)) {
        fd = Number(plain);
        plain = '';
      } else endWord();
      let op: Redirect['op'];
      if (c === '>' && next === '>') {
        op = '>>';
        i += 2;
      } else if (next === '&') {
        op = '>&';
        i += 2;
      } else {
        op = c;
        i++;
      }
      tokens.push({ kind: 'redirect', fd, op });
    } else if (c === '!' && word === null && plain === '' && (next === ' ' || next === '\t') && atCommandStart(tokens)) {
      tokens.push({ kind: 'op', op: '!' });
      i++;
    } else if (c === '(' || c === ')') {
      endWord();
      tokens.push({ kind: 'op', op: c });
      i++;
    } else if (UNSUPPORTED.has(c)) {
      throw new ShellSyntaxError(`unsupported by the simulator: ${UNSUPPORTED.get(c)}`);
    } else if (c === '$' && next === '(') {
      throw new ShellSyntaxError('unsupported by the simulator: command substitution $(...)');
    } else {
      plain += c;
      i++;
    }
  }
  endWord();
  return tokens;
}

/** Whether the next word would start a command (so `!` negates it rather than being an argument). */
function atCommandStart(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return !last || (last.kind === 'op' && last.op !== ')');
}

/** A word that is exactly `text`, unquoted: the reserved words `{` and `}`. */
function isReserved(t: Token | undefined, text: '{' | '}'): boolean {
  return t?.kind === 'word' && t.word.length === 1 && t.word[0]!.quote === 'none' && t.word[0]!.text === text;
}

export function parseScript(src: string): Script {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos];
  /** A line may end after `&&`, `||` or `|`. */
  const skipNewlines = () => {
    for (let t = peek(); t?.kind === 'op' && t.op === 'nl'; t = peek()) pos++;
  };
  const unexpected = (t: Token | undefined) =>
    new ShellSyntaxError(t ? `syntax error near unexpected token "${t.kind === 'op' ? (t.op === 'nl' ? 'newline' : t.op) : t.kind === 'word' ? wordText(t.word) : t.op}"` : 'syntax error: unexpected end of line');

  const parseRedirect = (t: Extract<Token, { kind: 'redirect' }>): Redirect => {
    const target = peek();
    if (!target || target.kind !== 'word') throw new ShellSyntaxError(`a redirection "${t.op}" without a target`);
    pos++;
    if (t.op === '>&') {
      const text = wordText(target.word);
      if (!/^\d+$/.test(text)) throw new ShellSyntaxError(`unsupported by the simulator: ">&${text}"`);
      return { fd: t.fd, op: '>&', target: Number(text) };
    }
    return { fd: t.fd, op: t.op, target: target.word };
  };

  const parseGroupRedirects = (): Redirect[] => {
    const redirects: Redirect[] = [];
    for (let t = peek(); t?.kind === 'redirect'; t = peek()) {
      pos++;
      redirects.push(parseRedirect(t));
    }
    const t = peek();
    if (t && t.kind === 'word') throw unexpected(t);
    return redirects;
  };

  const parseCommand = (): Command => {
    const first = peek();
    if (first?.kind === 'op' && first.op === '(') {
      pos++;
      const body = parseList('subshell');
      if (!(peek()?.kind === 'op' && (peek() as { op: string }).op === ')')) throw unexpected(peek());
      pos++;
      return { kind: 'subshell', body, redirects: parseGroupRedirects() };
    }
    if (isReserved(first, '{')) {
      pos++;
      const body = parseList('brace');
      if (!isReserved(peek(), '}')) throw unexpected(peek());
      pos++;
      return { kind: 'brace', body, redirects: parseGroupRedirects() };
    }
    if (first?.kind === 'word' && first.word.length === 1 && first.word[0]!.quote === 'none' && CONTROL_WORDS.has(first.word[0]!.text)) {
      throw new ShellSyntaxError(`unsupported by the simulator: "${first.word[0]!.text}" (control flow)`);
    }
    const cmd: SimpleCommand = { words: [], redirects: [] };
    for (;;) {
      const t = peek();
      if (!t || t.kind === 'op') break;
      pos++;
      if (t.kind === 'word') cmd.words.push(t.word);
      else cmd.redirects.push(parseRedirect(t));
    }
    if (!cmd.words.length && !cmd.redirects.length) throw unexpected(peek());
    return cmd;
  };

  const parsePipeline = (): Pipeline => {
    let negate = false;
    const t = peek();
    if (t?.kind === 'op' && t.op === '!') {
      negate = true;
      pos++;
    }
    const commands = [parseCommand()];
    for (;;) {
      const t = peek();
      if (t?.kind !== 'op' || t.op !== '|') break;
      pos++;
      skipNewlines();
      commands.push(parseCommand());
    }
    return { negate, commands };
  };

  /** Lists up to the end, or inside a group up to its `)` or `}` (which the caller consumes). */
  const parseList = (inside: 'top' | 'subshell' | 'brace'): Script => {
    const script: Script = [];
    const atEnd = () => {
      const t = peek();
      if (!t) return true;
      if (inside === 'subshell') return t.kind === 'op' && t.op === ')';
      if (inside === 'brace') return isReserved(t, '}');
      return false;
    };
    for (;;) {
      skipSeparators();
      if (atEnd()) break;
      const list: AndOrList = { first: parsePipeline(), rest: [] };
      for (;;) {
        const t = peek();
        if (t?.kind !== 'op' || (t.op !== '&&' && t.op !== '||')) break;
        pos++;
        skipNewlines();
        list.rest.push({ op: t.op, pipeline: parsePipeline() });
      }
      script.push(list);
      const after = peek();
      if (!after) break;
      if (after.kind === 'op' && (after.op === ';' || after.op === 'nl')) continue;
      if (inside === 'subshell' && after.kind === 'op' && after.op === ')') break;
      throw unexpected(after);
    }
    if (inside !== 'top' && !script.length) throw unexpected(peek());
    if (inside === 'top' && pos < tokens.length) throw unexpected(peek());
    return script;
  };
  const skipSeparators = () => {
    for (let t = peek(); t?.kind === 'op' && (t.op === ';' || t.op === 'nl'); t = peek()) pos++;
  };

  return parseList('top');
}

/** The literal text of a word, quotes removed and nothing expanded. */
export function wordText(word: Word): string {
  return word.map((s) => s.text).join('');
}
