/*
 * etcd's --auth-token parsing (decomposeOpts, NewTokenProvider): "simple", "" (none) or
 * "jwt,key=value,..." (jwt-options.ts). A malformed option list, a repeated key or an unknown type is
 * "auth: invalid auth options"; the JWT errors are etcd's (jwt-options.ts).
 */
import { JwtTokenProvider } from './jwt-token.js';
import { INVALID_AUTH_OPTS, parseJwtOptions } from './jwt-options.js';
import { NopTokenProvider, SimpleTokenProvider, type TokenProvider } from './simple-token.js';

export interface TokenProviderDeps {
  /** --auth-token-ttl, for simple tokens. */
  ttlMs: number;
  randomInt(n: number): number;
  /** Reads a key file (jwt pub-key, priv-key). */
  readFile(path: string): Buffer;
  /** etcd's warnings: unknown JWT options, a token that does not verify. */
  warn?(fields: Record<string, unknown>, msg: string): void;
}

export function newTokenProvider(opts: string, d: TokenProviderDeps): TokenProvider {
  const [type, ...rest] = opts.split(',');
  const map = new Map<string, string>();
  for (const o of rest) {
    const pair = o.split('=');
    if (pair.length !== 2 || map.has(pair[0]!)) throw new Error(INVALID_AUTH_OPTS);
    map.set(pair[0]!, pair[1]!);
  }
  if (type === 'simple') return new SimpleTokenProvider(d.ttlMs, d.randomInt);
  if (type === '') return new NopTokenProvider();
  if (type !== 'jwt') throw new Error(INVALID_AUTH_OPTS);
  const cfg = parseJwtOptions(map, d.readFile);
  if (cfg.unknownOptions.length > 0) d.warn?.({ keys: cfg.unknownOptions }, 'unknown JWT options');
  return new JwtTokenProvider(cfg, (token, error) => d.warn?.({ token, error }, 'failed to parse a JWT token'));
}
