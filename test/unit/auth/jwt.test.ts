// --auth-token=jwt,... parsed as etcd 3.4 parses it (texts from etcd 3.4.23 run with each option), and
// tokens signed and verified with RSA and EC keys that openssl makes here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtTokenProvider, newTokenProvider, parseGoDurationMs, type TokenInfo, type TokenProvider } from '../../../src/auth/index.js';

let dir = '';
const f = (name: string): string => path.join(dir, name);
const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'jwt-'));
  openssl('genrsa', '-out', f('rsa.pem'), '2048');
  openssl('rsa', '-in', f('rsa.pem'), '-pubout', '-out', f('rsa.pub'));
  openssl('rsa', '-in', f('rsa.pem'), '-traditional', '-out', f('rsa1.pem'));
  openssl('genrsa', '-out', f('rsa2.pem'), '2048');
  openssl('genrsa', '-out', f('rsa1024.pem'), '1024');
  openssl('rsa', '-in', f('rsa2.pem'), '-pubout', '-out', f('rsa2.pub'));
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ec.pem'));
  openssl('ec', '-in', f('ec.pem'), '-pubout', '-out', f('ec.pub'));
  writeFileSync(f('bad.pem'), 'garbage\n');
  writeFileSync(f('secret'), 'a shared secret');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const provider = (opts: string): TokenProvider =>
  newTokenProvider(`jwt,${opts.replace(/=([a-z0-9.]+\.(pem|pub)|secret)\b/g, (_m, file: string) => `=${f(file)}`)}`, {
    ttlMs: 1000, randomInt: () => 0, readFile: (p) => readFileSync(p),
  });

async function sign(p: TokenProvider, user: string, revision: number, nowMs = Date.now()): Promise<string> {
  const t = p.assign(user, '', 7, nowMs, revision);
  if (typeof t !== 'function') throw new Error('a JWT is signed by a function');
  return t();
}

const info = async (p: TokenProvider, token: string, nowMs = Date.now()): Promise<TokenInfo | undefined> => p.info(token, nowMs, 99);

describe('--auth-token=jwt options', () => {
  it.each([
    ['sign-method=RS256', 'auth: missing key data'],
    ['sign-method=HS256', 'auth: missing key data'],
    ['sign-method=XX256,pub-key=rsa.pub', 'auth: invalid auth options'],
    ['sign-method=RS256,pub-key=nofile.pem', 'auth: invalid auth options'],
    ['sign-method=HS256,priv-key=secret,ttl=1x', 'auth: invalid auth options'],
    ['priv-key=rsa.pem', 'auth: invalid auth options'],
    ['sign-method=RS256,priv-key=ec.pem', 'x509: failed to parse private key (use ParseECPrivateKey instead for this key format)'],
    ['sign-method=ES256,priv-key=rsa.pem', 'key is not a valid ECDSA private key'],
    ['sign-method=RS256,priv-key=bad.pem', 'invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key'],
    ['sign-method=RS256,pub-key=ec.pub', 'key is not a valid RSA public key'],
    ['sign-method=ES256,pub-key=rsa.pub', 'key is not a valid ECDSA public key'],
    ['sign-method=RS256,pub-key=rsa.pem', 'x509: malformed tbs certificate'],
    ['sign-method=none,priv-key=rsa.pem', 'unsupported signing method: *jwt.signingMethodNone'],
    ['sign-method=EdDSA,priv-key=ec.pem', 'unsupported signing method: *jwt.SigningMethodEd25519'],
    // ours only: jose takes no RSA key under 2048 bits
    ['sign-method=RS256,priv-key=rsa1024.pem', 'auth: RS256 needs an RSA key of 2048 bits or more (this one has 1024)'],
  ])('%s: %s', (opts, text) => {
    expect(() => provider(opts)).toThrow(text);
  });

  it('takes what etcd takes: PKCS1 and PKCS8 RSA keys, unknown options (warned), a pair etcd does not see as mismatched', () => {
    expect(provider('sign-method=PS256,priv-key=rsa1.pem')).toBeInstanceOf(JwtTokenProvider);
    expect(provider('sign-method=RS256,priv-key=rsa.pem,foo=bar')).toBeInstanceOf(JwtTokenProvider);
    // etcd refuses only keys whose E and N both differ: two 2048-bit keys with E=65537 pass
    expect(provider('sign-method=RS256,priv-key=rsa.pem,pub-key=rsa2.pub')).toBeInstanceOf(JwtTokenProvider);
    expect((provider('sign-method=RS256,pub-key=rsa.pub') as JwtTokenProvider).verifyOnly).toBe(true);
  });

  it('ttl is a Go duration', () => {
    expect(parseGoDurationMs('5m')).toBe(300_000);
    expect(parseGoDurationMs('1h2m3.5s')).toBe(3_723_500);
    expect(parseGoDurationMs('1500ms')).toBe(1500);
    expect(parseGoDurationMs('0')).toBe(0);
    expect(parseGoDurationMs('10')).toBeUndefined();
    expect(parseGoDurationMs('1x')).toBeUndefined();
    expect(parseGoDurationMs('')).toBeUndefined();
  });
});

describe('JWT tokens', () => {
  it.each([['RS256', 'rsa'], ['PS256', 'rsa'], ['ES256', 'ec']])('%s: etcd claims, verified by a member with the public key only', async (alg, kind) => {
    const signer = provider(`sign-method=${alg},priv-key=${kind}.pem,ttl=1m`);
    const verifier = provider(`sign-method=${alg},pub-key=${kind}.pub`);
    const now = Date.now();
    const token = await sign(signer, 'alice', 42, now);
    const [h, c] = token.split('.').map((s) => Buffer.from(s, 'base64url').toString());
    expect(h).toBe(`{"alg":"${alg}","typ":"JWT"}`);
    expect(c).toBe(`{"exp":${Math.floor((now + 60_000) / 1000)},"revision":42,"username":"alice"}`);
    expect(await info(verifier, token)).toMatchObject({ username: 'alice', revision: 42 });
    // the second look is synchronous, from the verified tokens
    expect(verifier.info(token, Date.now(), 99)).toMatchObject({ username: 'alice', revision: 42 });
    // a verify-only member cannot sign
    await expect(sign(verifier, 'bob', 1)).rejects.toThrow('auth: token signing attempted with verify-only key');
  });

  it('refuses a token of another key, another method, a forged claim, and one past its exp', async () => {
    const rsa = provider('sign-method=RS256,priv-key=rsa.pem');
    const other = provider('sign-method=RS256,priv-key=rsa2.pem');
    const es = provider('sign-method=ES256,priv-key=ec.pem');
    const token = await sign(rsa, 'alice', 3);
    expect(await info(other, token)).toBeUndefined();
    expect(await info(es, token)).toBeUndefined();
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from('{"exp":9999999999,"revision":3,"username":"root"}').toString('base64url')}.${s}`;
    expect(await info(rsa, forged)).toBeUndefined();
    expect(await info(rsa, 'not.a.jwt')).toBeUndefined();
    const shortLived = provider('sign-method=ES256,priv-key=ec.pem,ttl=1s');
    const old = await sign(shortLived, 'alice', 3, Date.now() - 5000);
    expect(await info(shortLived, old)).toBeUndefined();
    // a kept token goes at its exp, by the server's clock
    const fresh = await sign(shortLived, 'alice', 3);
    const v = await info(shortLived, fresh);
    expect(shortLived.info(fresh, v!.expiresAtMs! + 1, 99)).toBeUndefined();
    expect(await info(es, await sign(es, 'x', 1))).toMatchObject({ username: 'x' });
  });

  it('HS256 signs with the priv-key file bytes', async () => {
    const p = provider('sign-method=HS256,priv-key=secret');
    expect(await info(p, await sign(p, 'carol', 9))).toMatchObject({ username: 'carol', revision: 9 });
  });
});
