/*
 * Members as JSON, exactly as etcd 3.4 writes and reads them (Go's encoding/json on membership.Member):
 * the context of a conf-change entry, and a member's published attributes.
 *
 *   Member:              {"id":<uint64 in decimal>,"peerURLs":[...],"isLearner":true,"name":"...","clientURLs":[...]}
 *                        peerURLs always (null when there are none, as a nil slice); isLearner, name and
 *                        clientURLs only when not empty (omitempty)
 *   ConfigChangeContext: a Member and ,"isPromote":<bool> (etcd's AddNode context; a promotion carries
 *                        only the id: {"id":...,"peerURLs":null,"isPromote":true})
 *   Attributes:          {"name":"...","clientURLs":[...]} (both omitempty)
 *
 * Reading is Go's json.Unmarshal into those structs: keys matched case-insensitively, unknown keys and
 * null values ignored, a wrong type or malformed text an error. The id is read from its digits, so ids
 * above 2^53 stay exact.
 */
import { goJsonString } from '../pkg/go-json.js';
import type { Member } from './cluster.js';

const UINT64_MAX = 0xffffffffffffffffn;

const stringList = (xs: readonly string[]): string => `[${xs.map(goJsonString).join(',')}]`;

function memberFields(m: Member): string {
  let s = `"id":${BigInt.asUintN(64, m.id).toString()},"peerURLs":${m.peerURLs.length === 0 ? 'null' : stringList(m.peerURLs)}`;
  if (m.isLearner) s += ',"isLearner":true';
  if (m.name !== '') s += `,"name":${goJsonString(m.name)}`;
  if (m.clientURLs.length > 0) s += `,"clientURLs":${stringList(m.clientURLs)}`;
  return s;
}

/** etcd's json.Marshal(membership.Member): the context of a bootstrap, add or update conf change. */
export function encodeConfChangeMember(m: Member): Uint8Array {
  return new TextEncoder().encode(`{${memberFields(m)}}`);
}

/** etcd's context of a learner's promotion: ConfigChangeContext{Member{ID: id}, IsPromote: true}. */
export function encodePromoteContext(id: bigint): Uint8Array {
  const m: Member = { id, name: '', peerURLs: [], clientURLs: [], isLearner: false };
  return new TextEncoder().encode(`{${memberFields(m)},"isPromote":true}`);
}

/** etcd's json.Marshal(membership.Attributes): the value a member publishes. */
export function encodeMemberAttributes(a: { name: string; clientURLs: readonly string[] }): string {
  const parts: string[] = [];
  if (a.name !== '') parts.push(`"name":${goJsonString(a.name)}`);
  if (a.clientURLs.length > 0) parts.push(`"clientURLs":${stringList(a.clientURLs)}`);
  return `{${parts.join(',')}}`;
}

/** A conf-change context (a Member or a ConfigChangeContext) as etcd reads it; throws on what etcd refuses. */
export function decodeConfChangeContext(data: Uint8Array): { member: Member; isPromote: boolean } {
  const member: Member = { id: 0n, name: '', peerURLs: [], clientURLs: [], isLearner: false };
  let isPromote = false;
  for (const [key, v] of objectEntries(parseJson(new TextDecoder().decode(data)))) {
    if (v.t === 'null') continue;
    switch (key.toLowerCase()) {
      case 'id': member.id = uint64Of(v); break;
      case 'peerurls': member.peerURLs = stringsOf(v); break;
      case 'islearner': member.isLearner = boolOf(v); break;
      case 'name': member.name = stringOf(v); break;
      case 'clienturls': member.clientURLs = stringsOf(v); break;
      case 'ispromote': isPromote = boolOf(v); break;
      default:
    }
  }
  return { member, isPromote };
}

/** A member's published attributes as etcd reads them; throws on what etcd refuses. */
export function decodeMemberAttributes(text: string): { name: string; clientURLs: string[] } {
  const a = { name: '', clientURLs: [] as string[] };
  for (const [key, v] of objectEntries(parseJson(text))) {
    if (v.t === 'null') continue;
    const k = key.toLowerCase();
    if (k === 'name') a.name = stringOf(v);
    else if (k === 'clienturls') a.clientURLs = stringsOf(v);
  }
  return a;
}

// ---- a small JSON reader keeping numbers as text ----

type Json =
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  | { t: 'num'; v: string }
  | { t: 'str'; v: string }
  | { t: 'arr'; v: Json[] }
  | { t: 'obj'; v: Array<[string, Json]> };

function objectEntries(j: Json): Array<[string, Json]> {
  if (j.t !== 'obj') throw new TypeError(`member json: an object expected, got ${j.t}`);
  return j.v;
}

function uint64Of(j: Json): bigint {
  if (j.t !== 'num' || !/^(0|[1-9][0-9]*)$/.test(j.v) || BigInt(j.v) > UINT64_MAX) {
    throw new TypeError(`member json: cannot unmarshal ${j.t === 'num' ? j.v : j.t} into a uint64 id`);
  }
  return BigInt(j.v);
}

function stringOf(j: Json): string {
  if (j.t !== 'str') throw new TypeError(`member json: a string expected, got ${j.t}`);
  return j.v;
}

function boolOf(j: Json): boolean {
  if (j.t !== 'bool') throw new TypeError(`member json: a bool expected, got ${j.t}`);
  return j.v;
}

function stringsOf(j: Json): string[] {
  if (j.t !== 'arr') throw new TypeError(`member json: an array expected, got ${j.t}`);
  return j.v.map((x) => (x.t === 'null' ? '' : stringOf(x)));
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** RFC 8259 JSON (what Go's decoder accepts), numbers kept as their text. */
function parseJson(text: string): Json {
  let pos = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`member json: ${what} at offset ${pos}`);
  };
  const ws = (): void => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, pos)) pos += word.length;
    else fail('invalid literal');
  };
  const str = (): string => {
    pos++; // the opening quote
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        out += text[pos++];
        continue;
      }
      const e = text[pos + 1];
      pos += 2;
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(pos, pos + 4))) {
        out += String.fromCharCode(parseInt(text.slice(pos, pos + 4), 16));
        pos += 4;
      } else fail('invalid escape');
    }
  };
  const value = (depth: number): Json => {
    if (depth > 1000) fail('nesting too deep');
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const entries: Array<[string, Json]> = [];
      ws();
      if (text[pos] === '}') {
        pos++;
        return { t: 'obj', v: entries };
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('object key expected');
        const k = str();
        ws();
        if (text[pos++] !== ':') fail('":" expected');
        entries.push([k, value(depth + 1)]);
        ws();
        const d = text[pos++];
        if (d === '}') return { t: 'obj', v: entries };
        if (d !== ',') fail('"," or "}" expected');
      }
    }
    if (c === '[') {
      pos++;
      const items: Json[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return { t: 'arr', v: items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        const d = text[pos++];
        if (d === ']') return { t: 'arr', v: items };
        if (d !== ',') fail('"," or "]" expected');
      }
    }
    if (c === '"') return { t: 'str', v: toWellFormed(str()) };
    if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      literal(word);
      return word === 'null' ? { t: 'null' } : { t: 'bool', v: word === 'true' };
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m === null) return fail('value expected');
    pos += m[0].length;
    return { t: 'num', v: m[0] };
  };
  const v = value(0);
  ws();
  if (pos !== text.length) fail('text after the value');
  return v;
}

/** Go's decoder turns a lone surrogate escape (\ud800) into U+FFFD. */
function toWellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
