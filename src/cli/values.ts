// Parsers for flag values with Go's semantics (etcd reads its flags with Go's `flag` package):
// booleans as strconv.ParseBool, integers as ParseUint/ParseInt with base prefixes, durations as
// time.ParseDuration, URL lists as etcd's types.NewURLs. Each throws ValueError(reason) where the
// reason is the text etcd puts after the colon ("parse error", "URL must not contain a path: ...").
import type { FlagSpec } from './flags.js';

export class ValueError extends Error {}

export type FlagValue = string | boolean | number | URL[] | string[];

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function parseBool(s: string): boolean {
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new ValueError('parse error');
}

const INT_RE = /^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$/;

export function parseInteger(s: string, unsigned: boolean): number {
  if (!INT_RE.test(s) || (unsigned && /^[+-]/.test(s)) || /__|_$/.test(s)) throw new ValueError('parse error');
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '').replace(/_/g, '');
  let n: number;
  if (/^0[xXoObB]/.test(body)) n = Number(body.toLowerCase());
  else if (/^0[0-7]+$/.test(body)) n = parseInt(body, 8); // Go base 0: leading 0 is octal
  else if (/^0[0-9]+$/.test(body)) throw new ValueError('parse error');
  else n = Number(body);
  if (!Number.isSafeInteger(n)) throw new ValueError('value out of range');
  return neg ? -n : n;
}

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/** Go time.ParseDuration, in milliseconds. "0" needs no unit; "1h30m", "1.5s", "-2s" are valid. */
export function parseDurationMs(s: string): number {
  const bad = (): never => { throw new ValueError(`time: invalid duration "${s}"`); };
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) { sign = rest[0] === '-' ? -1 : 1; rest = rest.slice(1); }
  if (rest === '0') return 0;
  if (rest === '') bad();
  let total = 0;
  const part = /^([0-9]*\.?[0-9]*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/; // micro sign and Greek mu escaped: see scripts/bundle.mjs
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m || m[1] === '' || m[1] === '.') {
      if (m === null && /^[0-9.]+$/.test(rest)) throw new ValueError(`time: missing unit in duration "${s}"`);
      bad();
    }
    total += Number(m![1]) * DURATION_UNITS_MS[m![2]!]!;
    rest = rest.slice(m![0].length);
  }
  return sign * total;
}

const URL_SCHEMES = new Set(['http', 'https', 'unix', 'unixs']);

/** etcd's types.NewURLs on one element: scheme, host:port (not for unix), no path. */
export function parseOneUrl(raw: string): URL {
  const s = raw.trim();
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(s);
  const scheme = m?.[1]?.toLowerCase() ?? '';
  if (!m || !URL_SCHEMES.has(scheme)) throw new ValueError(`URL scheme must be http, https, unix, or unixs: ${s}`);
  const authority = m[2]!;
  const tail = m[3]!;
  if (scheme === 'http' || scheme === 'https') {
    if (!/^(\[[0-9a-fA-F:.%a-zA-Z]*\]|[^:[\]]*):[0-9]*$/.test(authority.replace(/^[^@]*@/, ''))) {
      if (/\[/.test(authority) && !/\]/.test(authority)) throw new ValueError(`parse "${s}": missing ']' in host`);
      throw new ValueError(`URL address does not have the form "host:port": ${s}`);
    }
  }
  const path = tail.replace(/[?#].*$/, '');
  if (path !== '') throw new ValueError(`URL must not contain a path: ${s}`);
  try {
    return new URL(s);
  } catch {
    throw new ValueError(`parse "${s}": invalid URL`);
  }
}

export function parseUrls(s: string): URL[] {
  if (s.trim() === '') return [];
  return s.split(',').map(parseOneUrl);
}

export function parseList(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

/** Parse one flag's string value according to its spec. */
export function parseFlagValue(spec: FlagSpec, s: string): FlagValue {
  switch (spec.kind) {
    case 'string': return s;
    case 'bool': return parseBool(s);
    case 'uint': return parseInteger(s, true);
    case 'int': return parseInteger(s, false);
    case 'duration':
      if (s === '') return 0;
      try {
        return parseDurationMs(s);
      } catch {
        throw new ValueError('parse error'); // Go's flag package hides time.ParseDuration's reason
      }
    case 'urls': return parseUrls(s);
    case 'list': return parseList(s);
    case 'enum':
      if (!spec.choices!.includes(s)) throw new ValueError('invalid value');
      return s;
  }
}

/** A canonical string for comparing two parsed values (env vs command line). */
export function canonical(v: FlagValue): string {
  if (Array.isArray(v)) return v.map((x) => (x instanceof URL ? formatUrl(x) : x)).join(',');
  return String(v);
}

/** The port of a parsed http(s) URL, filling in the scheme default the URL class hides. */
export function urlPort(u: URL): number {
  if (u.port !== '') return Number(u.port);
  return u.protocol === 'https:' || u.protocol === 'unixs:' ? 443 : 80;
}

/** The host of a URL without IPv6 brackets ("[::1]" → "::1"). */
export function urlHost(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** "scheme://host:port" with the port always shown (the URL class drops default ports). */
export function formatUrl(u: URL): string {
  if (u.protocol === 'unix:' || u.protocol === 'unixs:') return u.href.replace(/\/$/, '');
  return `${u.protocol}//${u.hostname}:${urlPort(u)}`;
}
