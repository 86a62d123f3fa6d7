/** POSIX shell quoting: every value rekick puts into a remote command goes through `shellQuote`. */

/** Quotes one word for sh: always single quotes, with embedded single quotes as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `--opt=` followed by the quoted value, e.g. `--title='rekick installer'`. */
export function quotedOption(option: string, value: string): string {
  return `${option}=${shellQuote(value)}`;
}

/**
 * Splits a config string of arguments (e.g. `installer.virtArgs`) into words the way sh would split a simple
 * command line: whitespace separates, single and double quotes group, backslash escapes. Nothing is expanded,
 * so `$(...)`, `;` and globs stay literal once each word is quoted again.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) cur += text[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unbalanced ${quote} quote in "${text}"`);
  if (inWord) words.push(cur);
  return words;
}
