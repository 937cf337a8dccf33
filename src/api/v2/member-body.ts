/*
 * The body of POST /v2/members and PUT /v2/members/<id> as etcd 3.4.23 reads it: Go 1.19's
 * json.Unmarshal into struct { PeerURLs []string `json:"peerURLs"` } (syntax errors first, with Go's
 * scanner texts; the key matched case-insensitively, every occurrence applied in order; the first type
 * error wins), then types.NewURLs (url.Parse, scheme, host:port, no path). Each failure is the message
 * etcd puts in its 400, e.g.
 *   {"peerURLs":"x"}        → json: cannot unmarshal string into Go struct field .peerURLs of type []string
 *   {"a":1 "b":2}           → invalid character '"' after object key:value pair
 *   {"peerURLs":["unix://x"]} → URL address does not have the form "host:port": unix://x
 */

/** What the body gives: the URLs, or etcd's message. */
export type PeerUrlsResult = { urls: string[] } | { message: string };

type Json = null | boolean | number | string | Json[] | { pairs: [string, Json][] };

class GoJsonError extends Error {}

const WS = new Set([' ', '\t', '\r', '\n']);

/** Go's quoteChar for a byte in a syntax error. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return '\'"\'';
  const code = c.charCodeAt(0);
  const special: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\v': '\\v' };
  if (special[c] !== undefined) return `'${special[c]}'`;
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, '0')}'`;
  if ((code >= 0x80 && code < 0xa0) || code === 0xa0 || code === 0xad) return `'\\u00${code.toString(16)}'`;
  return `'${c}'`;
}

/** A recursive-descent reader of JSON over bytes (a latin1 string) that fails as Go's scanner does. */
class GoJsonReader {
  private i = 0;
  constructor(private readonly s: string) {}

  /** Fails at the current byte; at the end Go's scanner feeds a space, which only some states refuse. */
  private fail(context: string, spaceOk: boolean): never {
    if (this.i >= this.s.length) {
      throw new GoJsonError(spaceOk ? 'unexpected end of JSON input' : `invalid character ' ' ${context}`);
    }
    throw new GoJsonError(`invalid character ${quoteChar(this.s[this.i]!)} ${context}`);
  }

  private ws(): void {
    while (this.i < this.s.length && WS.has(this.s[this.i]!)) this.i++;
  }

  private peek(): string | undefined {
    return this.s[this.i];
  }

  document(): Json {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail('after top-level value', true);
    return v;
  }

  private value(): Json {
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    return this.fail('looking for beginning of value', true);
  }

  private object(): Json {
    this.i++;
    const pairs: [string, Json][] = [];
    this.ws();
    if (this.peek() === '}') {
      this.i++;
      return { pairs };
    }
    for (;;) {
      if (this.peek() !== '"') this.fail('looking for beginning of object key string', true);
      const key = this.string();
      this.ws();
      if (this.peek() !== ':') this.fail('after object key', true);
      this.i++;
      this.ws();
      pairs.push([key, this.value()]);
      this.ws();
      const c = this.peek();
      this.i++;
      if (c === '}') return { pairs };
      if (c !== ',') {
        this.i--;
        this.fail('after object key:value pair', true);
      }
      this.ws();
    }
  }

  private array(): Json {
    this.i++;
    const out: Json[] = [];
    this.ws();
    if (this.peek() === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.peek();
      this.i++;
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail('after array element', true);
      }
      this.ws();
    }
  }

  private string(): string {
    const start = this.i++;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('in string literal', true);
      this.i++;
      if (c === '"') break;
      if (c === '\\') {
        const e = this.peek();
        if (e === 'u') {
          this.i++;
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(this.peek() ?? '')) this.fail('in \\u hexadecimal character escape', false);
            this.i++;
          }
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) this.i++;
        else this.fail('in string escape code', false);
      } else if (c!.charCodeAt(0) < 0x20) {
        this.i--;
        this.fail('in string literal', true);
      }
    }
    // the token is valid JSON: JSON.parse decodes the escapes (bytes → UTF-8 first)
    return JSON.parse(Buffer.from(this.s.slice(start, this.i), 'latin1').toString('utf8')) as string;
  }

  private digits(): number {
    const from = this.i;
    while (/[0-9]/.test(this.peek() ?? '')) this.i++;
    return this.i - from;
  }

  private number(): number {
    const start = this.i;
    if (this.peek() === '-') {
      this.i++;
      if (!/[0-9]/.test(this.peek() ?? '')) this.fail('in numeric literal', false);
    }
    if (this.peek() === '0') this.i++;
    else this.digits();
    if (this.peek() === '.') {
      this.i++;
      if (this.digits() === 0) this.fail('after decimal point in numeric literal', false);
    }
    if (this.peek() === 'e' || this.peek() === 'E') {
      this.i++;
      if (this.peek() === '+' || this.peek() === '-') this.i++;
      if (this.digits() === 0) this.fail('in exponent of numeric literal', false);
    }
    return Number(this.s.slice(start, this.i));
  }

  private literal(word: string, v: Json): Json {
    for (let k = 0; k < word.length; k++) {
      if (this.peek() !== word[k]) this.fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`, false);
      this.i++;
    }
    return v;
  }
}

function kind(v: Json): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

const STRUCT_TYPE = 'struct { PeerURLs []string "json:\\"peerURLs\\"" }';

/** json.Unmarshal into the peerURLs struct: the list (undefined = nil) or Go's error text. */
function decodePeerUrls(v: Json): { list: string[] | undefined } | { message: string } {
  if (v === null) return { list: undefined };
  if (typeof v !== 'object' || Array.isArray(v)) return { message: `json: cannot unmarshal ${kind(v)} into Go value of type ${STRUCT_TYPE}` };
  let list: string[] | undefined;
  let firstError: string | undefined;
  const typeError = (k: string, type: string): void => {
    firstError ??= `json: cannot unmarshal ${k} into Go struct field .peerURLs of type ${type}`;
  };
  for (const [key, val] of v.pairs) {
    if (key.toLowerCase() !== 'peerurls') continue;
    if (val === null) list = undefined;
    else if (!Array.isArray(val)) typeError(kind(val), '[]string');
    else {
      list = val.map((x) => {
        if (typeof x === 'string') return x;
        if (x !== null) typeError(kind(x), 'string');
        return '';
      });
    }
  }
  return firstError === undefined ? { list } : { message: firstError };
}

/** Go's strconv.Quote, enough for the URLs in url.Error texts. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The escape error of Go's url unescape over `s` (mode: path, host or fragment), or undefined. */
function escapeError(s: string, host: boolean): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
      i += 2;
    } else if (host && c.charCodeAt(0) < 0x80 && !/[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"]/.test(c)) {
      return `invalid character ${goQuote(c)} in host name`;
    }
  }
  return undefined;
}

function decodePercent(s: string): string {
  return s.includes('%') ? Buffer.from(s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8') : s;
}

interface GoUrl { scheme: string; host: string; path: string }

/** Go's url.Parse, as far as NewURLs looks at it: scheme, host, path, or the error text. */
function goUrlParse(raw: string): GoUrl | { error: string } {
  const err = (msg: string): { error: string } => ({ error: `parse ${goQuote(raw)}: ${msg}` });
  if (/[\x00-\x1f\x7f]/.test(raw)) return err('net/url: invalid control character in URL');
  const hash = raw.indexOf('#');
  let rest = hash < 0 ? raw : raw.slice(0, hash);
  if (hash >= 0) {
    const e = escapeError(raw.slice(hash + 1), false);
    if (e !== undefined) return err(e);
  }
  let scheme = '';
  const m = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(rest);
  if (rest.startsWith(':')) return err('missing protocol scheme');
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
  }
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, host: '', path: '' }; // opaque
    const seg = rest.split('/')[0]!;
    if (seg.includes(':')) return err('first path segment in URL cannot contain colon');
  }
  let host = '';
  if (rest.startsWith('//') && (scheme !== '' || !rest.startsWith('///'))) {
    const slash = rest.indexOf('/', 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    host = at < 0 ? authority : authority.slice(at + 1);
    const portErr = hostPortError(host);
    if (portErr !== undefined) return err(portErr);
    const e = escapeError(host, true);
    if (e !== undefined) return err(e);
    host = decodePercent(host);
  }
  const e = escapeError(rest, false);
  if (e !== undefined) return err(e);
  return { scheme, host, path: decodePercent(rest) };
}

/** Go's parseHost port check: what follows the host (or the IPv6 literal) must be ":digits". */
function hostPortError(host: string): string | undefined {
  let colonPort: string;
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) return 'missing \']\' in host';
    colonPort = host.slice(close + 1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon < 0) return undefined;
    colonPort = host.slice(colon);
  }
  if (colonPort === '' || /^:[0-9]*$/.test(colonPort)) return undefined;
  return `invalid port ${goQuote(colonPort)} after host`;
}

/** Whether Go's net.SplitHostPort accepts host:port. */
function splitHostPortOk(hp: string): boolean {
  const last = hp.lastIndexOf(':');
  if (last < 0) return false;
  if (hp.startsWith('[')) {
    const end = hp.indexOf(']');
    if (end < 0 || end + 1 !== last) return false;
    return !hp.slice(1).includes('[') && !hp.slice(end + 1).includes(']');
  }
  const h = hp.slice(0, last);
  return !h.includes(':') && !hp.includes('[') && !hp.includes(']');
}

/** etcd's types.NewURLs checks: the message of the first bad URL, or undefined. */
export function checkUrls(urls: readonly string[]): string | undefined {
  if (urls.length === 0) return 'no valid URLs given';
  for (const raw of urls) {
    const s = raw.trim();
    const u = goUrlParse(s);
    if ('error' in u) return u.error;
    if (!['http', 'https', 'unix', 'unixs'].includes(u.scheme)) return `URL scheme must be http, https, unix, or unixs: ${s}`;
    if (!splitHostPortOk(u.host)) return `URL address does not have the form "host:port": ${s}`;
    if (u.path !== '') return `URL must not contain a path: ${s}`;
  }
  return undefined;
}

/** The peer URLs of a members request body, or etcd's 400 message. */
export function readPeerUrlsBody(body: Buffer): PeerUrlsResult {
  let doc: Json;
  try {
    doc = new GoJsonReader(body.toString('latin1')).document();
  } catch (e) {
    if (e instanceof GoJsonError) return { message: e.message };
    throw e;
  }
  const decoded = decodePeerUrls(doc);
  if ('message' in decoded) return decoded;
  const list = decoded.list ?? [];
  const bad = checkUrls(list);
  return bad === undefined ? { urls: list.map((u) => u.trim()) } : { message: bad };
}
