// Reading request bodies the way etcd 3.4's gateway does (Go's encoding/json Decoder + jsonpb):
// a body may hold several JSON values back to back (`{"ID":1}{"ID":1}` on the keepalive and watch
// streams), a unary call reads only the first one and ignores what follows, and base64 is Go's
// StdEncoding, with Go's error text (`illegal base64 data at input byte 4`). Decode errors reach
// the client verbatim, so the texts here mimic Go's where a client could plausibly match on them.
import { goJsonSyntaxError } from './json-syntax.js';

/** A request body that could not be turned into a request message (gRPC InvalidArgument). */
export class GatewayDecodeError extends Error {
  override readonly name = 'GatewayDecodeError';
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * Splits `text` into complete top-level JSON value texts starting at `from`. Returns the values and
 * the offset where an incomplete tail (if any) starts, so a stream reader can keep the tail and wait
 * for more bytes.
 */
export function splitJsonValues(text: string, from = 0): { values: string[]; rest: number } {
  const values: string[] = [];
  let i = from;
  for (;;) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) return { values, rest: i };
    const end = scanValueEnd(text, i);
    if (end < 0) return { values, rest: i };
    values.push(text.slice(i, end));
    i = end;
  }
}

/** End offset of the JSON value starting at `start`, or -1 if the text ends inside it. */
function scanValueEnd(text: string, start: number): number {
  const first = text[start];
  if (first !== '{' && first !== '[' && first !== '"') {
    let i = start;
    while (i < text.length && !isSpace(text.charCodeAt(i)) && !'{}[]",:'.includes(text[i] as string)) i++;
    return i === start ? start + 1 : i;
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return i + 1;
      }
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Parses one JSON value text; errors carry Go-like wording. */
export function parseJsonValue(text: string): unknown {
  try {
    return JSON.parse(LONG_DIGITS.test(text) ? quoteLongIntegers(text) : text);
  } catch {
    throw new GatewayDecodeError(goJsonSyntaxError(text));
  }
}

const LONG_DIGITS = /\d{16}/;

/**
 * Integers beyond 2^53 lose precision in JSON.parse, but clients send 64-bit ids as bare numbers
 * (`{"ID":7587862118036416012}`); Go reads them exactly. Integer literals of 16+ digits outside
 * strings become strings, which the codec reads as the same number.
 */
export function quoteLongIntegers(text: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (c !== '-' && !(c! >= '0' && c! <= '9')) continue;
    let j = i + 1;
    while (j < text.length && text[j]! >= '0' && text[j]! <= '9') j++;
    const next = text[j];
    const isInteger = next !== '.' && next !== 'e' && next !== 'E';
    if (isInteger && j - i >= 16) {
      out += `${text.slice(last, i)}"${text.slice(i, j)}"`;
      last = j;
    }
    i = j - 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** The first JSON value of a unary request body; an empty body is `{}` (as etcd treats it). */
export function firstJsonValue(body: string): unknown {
  const { values, rest } = splitJsonValues(body);
  if (values.length === 0) {
    if (rest < body.length) throw new GatewayDecodeError('unexpected EOF');
    return {};
  }
  return parseJsonValue(values[0] as string);
}

const B64 = new Int16Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  B64[c.charCodeAt(0)] = i;
}
const PAD = 0x3d;
const isNewline = (c: number | undefined) => c === 0x0a || c === 0x0d;

/**
 * Go's base64.StdEncoding.DecodeString: padding required, CR/LF ignored, first offending byte
 * reported; non-zero trailing bits are accepted.
 */
export function decodeBase64Std(s: string): Buffer {
  const src = Buffer.from(s, 'utf8');
  let si = 0;
  const bad = (at: number) => new GatewayDecodeError(`illegal base64 data at input byte ${at}`);
  while (si < src.length) {
    let j = 0;
    for (; j < 4; j++) {
      while (isNewline(src[si])) si++;
      if (si === src.length) {
        if (j === 0) break;
        throw bad(si - j);
      }
      const c = src[si++] as number;
      if (c === PAD) {
        si = checkPadding(src, si, j, bad);
        j = 4;
        break;
      }
      if (B64[c] === -1) throw bad(si - 1);
    }
  }
  return Buffer.from(s.replace(/[\r\n]/g, ''), 'base64');
}

function checkPadding(src: Buffer, si: number, j: number, bad: (at: number) => Error): number {
  if (j < 2) throw bad(si - 1);
  if (j === 2) {
    while (isNewline(src[si])) si++;
    if (si === src.length) throw bad(src.length);
    if (src[si] !== PAD) throw bad(si - 1);
    si++;
  }
  while (isNewline(src[si])) si++;
  if (si < src.length) throw bad(si);
  return si;
}
