/*
 * Form input as etcd 3.4 reads it (Go's r.ParseForm): the URL query, plus for POST, PUT and PATCH a
 * body whose Content-Type is application/x-www-form-urlencoded (any other type: body ignored). Body
 * values come before query values, so the first value of a field is the body's. "+" is a space;
 * "a" alone is a="" ; a ";" or a bad escape is an error (the first error wins) — etcd answers any
 * of these with 210 "Invalid POST form" and the Go error text as cause, e.g.
 *   ?%zz            → invalid URL escape "%zz"
 *   ?a=1;b=2        → invalid semicolon separator in query
 *   body > 10 MiB   → http: POST too large
 */

/** Go's limit on a form body (net/http maxFormSize); a bigger one is refused. */
export const FORM_BODY_BYTES_MAX = 10 << 20;

export type Form = Map<string, string[]>;

export class FormError extends Error {}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Go's strconv.Quote for the short escape text of an EscapeError. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Go's url.QueryUnescape over a byte string (one char per byte, as Node gives the request line and as
 * we read bodies): "+" → space, %XX → byte; the bytes are then decoded as UTF-8 (bad bytes → U+FFFD).
 */
export function queryUnescape(s: string): string {
  if (!s.includes('%') && !s.includes('+') && !/[\x80-\xff]/.test(s)) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) {
        throw new FormError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 43) {
      bytes.push(32);
    } else {
      bytes.push(c & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Go's url.ParseQuery into `into` (appending); returns the first error text, or undefined. */
export function parseQueryInto(query: string, into: Form): string | undefined {
  let firstErr: string | undefined;
  for (const part of query.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) {
      firstErr ??= 'invalid semicolon separator in query';
      continue;
    }
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = queryUnescape(rawKey);
      value = queryUnescape(rawValue);
    } catch (e) {
      firstErr ??= (e as Error).message;
      continue;
    }
    const list = into.get(key);
    if (list === undefined) into.set(key, [value]);
    else list.push(value);
  }
  return firstErr;
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f && !TSPECIALS.includes(c);
}

/** Go's mime consumeToken: the leading token and the rest. */
function consumeToken(v: string): [string, string] {
  let i = 0;
  while (i < v.length && isTokenChar(v[i]!)) i++;
  return [v.slice(0, i), v.slice(i)];
}

/** Go's mime consumeValue: a token or a quoted string ("" and `v` when there is none). */
function consumeValue(v: string): [string, string] {
  if (v === '') return ['', ''];
  if (v[0] !== '"') return consumeToken(v);
  let out = '';
  for (let i = 1; i < v.length; i++) {
    const c = v[i]!;
    if (c === '"') return [out, v.slice(i + 1)];
    if (c === '\\' && i + 1 < v.length && TSPECIALS.includes(v[i + 1]!)) {
      out += v[++i];
      continue;
    }
    if (c === '\r' || c === '\n') return ['', v];
    out += c;
  }
  return ['', v];
}

/** Go's mime consumeMediaParam: one `; name=value`, or name "" when there is none. */
function consumeMediaParam(v: string): [string, string, string] {
  let rest = v.trimStart();
  if (!rest.startsWith(';')) return ['', '', v];
  rest = rest.slice(1).trimStart();
  let param: string;
  [param, rest] = consumeToken(rest);
  if (param === '') return ['', '', v];
  rest = rest.trimStart();
  if (!rest.startsWith('=')) return ['', '', v];
  rest = rest.slice(1).trimStart();
  const [value, rest2] = consumeValue(rest);
  if (value === '' && rest2 === rest) return ['', '', v];
  return [param.toLowerCase(), value, rest2];
}

/** Go's mime checkMediaTypeDisposition: "type", "type/subtype", or an error text. */
function checkMediaType(s: string): string | undefined {
  const [typ, rest] = consumeToken(s);
  if (typ === '') return 'mime: no media type';
  if (rest === '') return undefined;
  if (!rest.startsWith('/')) return 'mime: expected slash after first token';
  const [sub, rest2] = consumeToken(rest.slice(1));
  if (sub === '') return 'mime: expected token after slash';
  if (rest2 !== '') return 'mime: unexpected content after media subtype';
  return undefined;
}

/**
 * The media type of a Content-Type header as Go 1.19's mime.ParseMediaType sees it (etcd 3.4.23 is
 * built with it), or its error: a lone token ("json") is a media type; parameters must be
 * `; name=value` (token or quoted value), a trailing ";" is allowed, a repeated name is an error
 * (continuations `name*` are tracked apart from plain names, as Go does).
 */
export function mediaType(contentType: string | undefined): { type: string } | { error: string } {
  if (contentType === undefined || contentType === '') return { type: 'application/octet-stream' };
  const semi = contentType.indexOf(';');
  const base = semi < 0 ? contentType : contentType.slice(0, semi);
  const type = base.toLowerCase().trim();
  const bad = checkMediaType(type);
  if (bad !== undefined) return { error: bad };
  const seen = new Set<string>();
  let v = contentType.slice(base.length);
  while (v.length > 0) {
    v = v.trimStart();
    if (v.length === 0) break;
    const [key, , rest] = consumeMediaParam(v);
    if (key === '') {
      if (rest.trim() === ';') break;
      return { error: 'mime: invalid media parameter' };
    }
    const star = key.indexOf('*');
    const slot = star < 0 ? ` ${key}` : `${key.slice(0, star)} ${key}`;
    if (seen.has(slot)) return { error: 'mime: duplicate parameter name' };
    seen.add(slot);
    v = rest;
  }
  return { type };
}

/**
 * r.ParseForm: the form of a request, or the error text etcd puts in its 210 cause.
 * `body` is the raw request body (only read for POST/PUT/PATCH form bodies).
 */
export function parseForm(method: string, rawQuery: string, contentType: string | undefined, body: Buffer | undefined): { form: Form } | { error: string } {
  const form: Form = new Map();
  let err: string | undefined;
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    const mt = mediaType(contentType);
    if ('error' in mt) err = mt.error;
    else if (mt.type === 'application/x-www-form-urlencoded' && body !== undefined && body.length > 0) {
      if (body.length > FORM_BODY_BYTES_MAX) err = 'http: POST too large';
      else err = parseQueryInto(body.toString('latin1'), form);
    }
  }
  const qErr = parseQueryInto(rawQuery, form);
  err ??= qErr;
  return err === undefined ? { form } : { error: err };
}

/** The first value of a field (Go's r.FormValue): "" when absent. */
export function formValue(form: Form, key: string): string {
  return form.get(key)?.[0] ?? '';
}
