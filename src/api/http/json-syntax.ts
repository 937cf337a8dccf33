// Go's encoding/json syntax error texts for a body JSON.parse rejected. etcd's gateway returns
// them verbatim (`invalid character 'o' in literal null (expecting 'u')`), so we walk the text the
// way Go's scanner does and name the first offending byte and what was expected there. Runs only
// on the error path; valid bodies never come here.

type Ctx = 'obj' | 'arr';

class SyntaxFound extends Error {}

const isWs = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

const GO_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 92: '\\\\' };

/** Go's quoteChar: one byte, as strconv.Quote writes the rune of its value ('\x01', '\u0085', 'é'). */
export function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  const b = c.charCodeAt(0);
  const esc = GO_ESCAPES[b];
  if (esc !== undefined) return `'${esc}'`;
  if (b < 0x20 || b === 0x7f) return `'\\x${b.toString(16).padStart(2, '0')}'`;
  if ((b >= 0x80 && b <= 0xa0) || b === 0xad) return `'\\u${b.toString(16).padStart(4, '0')}'`; // not printable
  return `'${c}'`;
}

export function goJsonSyntaxError(text: string): string {
  try {
    new Walker(Buffer.from(text, 'utf8').toString('latin1')).top(); // Go's scanner reads bytes

    return 'unexpected EOF';
  } catch (err) {
    if (err instanceof SyntaxFound) return err.message;
    throw err;
  }
}

class Walker {
  private i = 0;
  private readonly stack: Ctx[] = [];
  constructor(private readonly s: string) {}

  top(): void {
    this.value('looking for beginning of value');
  }

  private peek(): string {
    while (isWs(this.s[this.i])) this.i++;
    if (this.i >= this.s.length) throw new SyntaxFound('unexpected EOF');
    return this.s[this.i] as string;
  }

  private fail(what: string): never {
    throw new SyntaxFound(`invalid character ${quoteChar(this.s[this.i] as string)} ${what}`);
  }

  private value(expecting: string): void {
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || isDigit(c)) return this.number();
    for (const lit of ['true', 'false', 'null']) if (c === lit[0]) return this.literal(lit);
    this.fail(expecting);
  }

  private object(): void {
    this.i++;
    this.stack.push('obj');
    if (this.peek() === '}') return this.close();
    for (;;) {
      if (this.peek() !== '"') this.fail('looking for beginning of object key string');
      this.string();
      if (this.peek() !== ':') this.fail('after object key');
      this.i++;
      this.value('looking for beginning of value');
      const c = this.peek();
      if (c === '}') return this.close();
      if (c !== ',') this.fail('after object key:value pair');
      this.i++;
    }
  }

  private array(): void {
    this.i++;
    this.stack.push('arr');
    if (this.peek() === ']') return this.close();
    for (;;) {
      this.value('looking for beginning of value');
      const c = this.peek();
      if (c === ']') return this.close();
      if (c !== ',') this.fail('after array element');
      this.i++;
    }
  }

  private close(): void {
    this.i++;
    this.stack.pop();
  }

  private string(): void {
    for (this.i++; ; this.i++) {
      const c = this.s[this.i];
      if (c === undefined) throw new SyntaxFound('unexpected EOF');
      if (c === '"') break;
      if (c < ' ') this.fail('in string literal');
      if (c === '\\') {
        this.i++;
        const e = this.s[this.i];
        if (e === undefined) throw new SyntaxFound('unexpected EOF');
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            this.i++;
            if (this.s[this.i] === undefined) throw new SyntaxFound('unexpected EOF');
            if (!/[0-9a-fA-F]/.test(this.s[this.i] as string)) this.fail('in \\u hexadecimal character escape');
          }
        } else if (!'"\\/bfnrt'.includes(e)) this.fail('in string escape code');
      }
    }
    this.i++;
  }

  private number(): void {
    const s = this.s;
    if (s[this.i] === '-') {
      this.i++;
      if (this.i >= s.length) throw new SyntaxFound('unexpected EOF');
      if (!isDigit(s[this.i])) this.fail('in numeric literal');
    }
    if (s[this.i] === '0') this.i++;
    else while (isDigit(s[this.i])) this.i++;
    if (s[this.i] === '.') {
      this.i++;
      if (this.i >= s.length) throw new SyntaxFound('unexpected EOF');
      if (!isDigit(s[this.i])) this.fail('after decimal point in numeric literal');
      while (isDigit(s[this.i])) this.i++;
    }
    if (s[this.i] === 'e' || s[this.i] === 'E') {
      this.i++;
      if (s[this.i] === '+' || s[this.i] === '-') this.i++;
      if (this.i >= s.length) throw new SyntaxFound('unexpected EOF');
      if (!isDigit(s[this.i])) this.fail('in exponent of numeric literal');
      while (isDigit(s[this.i])) this.i++;
    }
  }

  private literal(lit: string): void {
    for (let k = 0; k < lit.length; k++, this.i++) {
      if (this.i >= this.s.length) throw new SyntaxFound('unexpected EOF');
      if (this.s[this.i] !== lit[k]) this.fail(`in literal ${lit} (expecting ${quoteChar(lit[k] as string)})`);
    }
  }
}
