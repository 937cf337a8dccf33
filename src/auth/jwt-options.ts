/*
 * etcd 3.4's JWT options (auth/options.go with golang-jwt v3.2.1's key parsing): from the map
 * `--auth-token=jwt,sign-method=RS256,priv-key=...,pub-key=...,ttl=...` gives, the signing method, the
 * key and whether this member may only verify. The errors are etcd's texts: a bad ttl, an unreadable
 * key file or an unknown method is "auth: invalid auth options"; the key errors are returned as the
 * key parser words them (the x509/asn1 texts of Go for undecodable DER are approximated by one text).
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from '../platform/crypto-keys.js';

export const INVALID_AUTH_OPTS = 'auth: invalid auth options';
const MISSING_KEY = 'auth: missing key data';
const KEY_MISMATCH = "auth: public and private keys don't match";
const NOT_PEM = 'invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key';
/** etcd's DefaultTTL. */
export const DEFAULT_JWT_TTL_MS = 5 * 60_000;

/** The methods golang-jwt registers (jwt.GetSigningMethod); EdDSA and none are known but refused by Key(). */
const METHODS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'none'];
const UNSUPPORTED: Record<string, string> = { EdDSA: '*jwt.SigningMethodEd25519', none: '*jwt.signingMethodNone' };
const KNOWN_OPTIONS = new Set(['sign-method', 'pub-key', 'priv-key', 'ttl']);

export interface JwtConfig {
  /** The JWS "alg": RS256, ES256, HS256, PS256, ... */
  alg: string;
  /** Signs (and, through its public half, verifies); for HS* the secret bytes. */
  signKey?: KeyObject | Uint8Array;
  verifyKey: KeyObject | Uint8Array;
  ttlMs: number;
  /** Option names etcd does not know (it warns and goes on). */
  unknownOptions: string[];
}

/** Go's time.ParseDuration, in ms; undefined where Go errors. */
export function parseGoDurationMs(s: string): number | undefined {
  const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  const re = /^(\d*(?:\.\d*)?)([^\d.]+)/;
  while (rest !== '') {
    const m = re.exec(rest);
    if (m === null || m[1] === '' || m[1] === '.') return undefined;
    const unit = UNITS[m[2]!];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** Go's pem.Decode: the bytes of the first PEM block, or undefined. */
function pemBlock(b: Buffer): Buffer | undefined {
  const m = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(b.toString('latin1'));
  if (m === null) return undefined;
  const body = m[2]!.split(/\r?\n/).filter((l) => !l.includes(':')).join('');
  return Buffer.from(body, 'base64');
}

function tryKey<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

const priv = (der: Buffer, type: 'pkcs1' | 'pkcs8' | 'sec1'): KeyObject | undefined => tryKey(() => createPrivateKey({ key: der, format: 'der', type }));

/**
 * Which private key structure DER bytes hold, from the element after the leading version INTEGER:
 * an INTEGER (PKCS#1 RSAPrivateKey), a SEQUENCE (PKCS#8's algorithm identifier) or an OCTET STRING
 * (SEC 1 ECPrivateKey). Read here rather than left to OpenSSL, whose newer releases (Node 22+) also
 * take a SEC 1 key asked for as PKCS#1, where Go's parsers (and so etcd's messages) tell them apart.
 */
function derKind(der: Buffer): 'pkcs1' | 'pkcs8' | 'sec1' | undefined {
  let p = 0;
  const header = (tag: number): number | undefined => {
    if (der[p] !== tag) return undefined;
    let len = der[p + 1];
    p += 2;
    if (len === undefined) return undefined;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (der[p++] ?? 0);
    }
    return len;
  };
  if (header(0x30) === undefined) return undefined;
  const v = header(0x02);
  if (v === undefined) return undefined;
  p += v;
  return ({ 0x02: 'pkcs1', 0x30: 'pkcs8', 0x04: 'sec1' } as const)[der[p] as 0x02 | 0x30 | 0x04];
}

/** jwt.ParseRSAPrivateKeyFromPEM (PKCS#1, else PKCS#8) / ParseECPrivateKeyFromPEM (SEC 1, else PKCS#8). */
function parsePrivate(pem: Buffer, kind: 'rsa' | 'ec'): KeyObject {
  const der = pemBlock(pem);
  if (der === undefined) throw new Error(NOT_PEM);
  const form = derKind(der);
  const own = kind === 'rsa' ? 'pkcs1' : 'sec1';
  const k = form === own || form === 'pkcs8' ? priv(der, form) : undefined;
  if (k === undefined) {
    if (kind === 'rsa' && form === 'sec1') throw new Error('x509: failed to parse private key (use ParseECPrivateKey instead for this key format)');
    if (kind === 'ec' && form === 'pkcs1') throw new Error('x509: failed to parse private key (use ParsePKCS1PrivateKey instead for this key format)');
    throw new Error('asn1: structure error: the private key is not PKCS1, PKCS8 or SEC1 DER');
  }
  if (k.asymmetricKeyType !== kind) throw new Error(kind === 'rsa' ? 'key is not a valid RSA private key' : 'key is not a valid ECDSA private key');
  return k;
}

/** jwt.ParseRSAPublicKeyFromPEM / ParseECPublicKeyFromPEM: PKIX, else a certificate's key. */
function parsePublic(pem: Buffer, kind: 'rsa' | 'ec'): KeyObject {
  const der = pemBlock(pem);
  if (der === undefined) throw new Error(NOT_PEM);
  const k = tryKey(() => createPublicKey({ key: der, format: 'der', type: 'spki' })) ?? tryKey(() => new X509Certificate(der).publicKey);
  if (k === undefined) throw new Error('x509: malformed tbs certificate');
  if (k.asymmetricKeyType !== kind) throw new Error(kind === 'rsa' ? 'key is not a valid RSA public key' : 'key is not a valid ECDSA public key');
  return k;
}

/** etcd's rsaKey / ecKey: the private key when given (its own public half verifies), else the public one. */
function asymmetricKeys(kind: 'rsa' | 'ec', pub: Buffer | undefined, prv: Buffer | undefined): Pick<JwtConfig, 'signKey' | 'verifyKey'> {
  const p = prv === undefined ? undefined : parsePrivate(prv, kind);
  const q = pub === undefined ? undefined : parsePublic(pub, kind);
  if (p === undefined) {
    if (q === undefined) throw new Error(MISSING_KEY);
    return { verifyKey: q };
  }
  if (q !== undefined && mismatched(kind, p, q)) throw new Error(KEY_MISMATCH);
  return { signKey: p, verifyKey: createPublicKey(p) };
}

/** etcd's check, as it is written: RSA keys mismatch only when both E and N differ; EC keys when curve, X and Y all do. */
function mismatched(kind: 'rsa' | 'ec', p: KeyObject, q: KeyObject): boolean {
  const a = p.export({ format: 'jwk' });
  const b = q.export({ format: 'jwk' });
  if (kind === 'rsa') return a.e !== b.e && a.n !== b.n;
  return a.crv !== b.crv && a.x !== b.x && a.y !== b.y;
}

/** newTokenProviderJWT's parsing: throws Error with etcd's text. */
export function parseJwtOptions(opts: ReadonlyMap<string, string>, readFile: (path: string) => Buffer): JwtConfig {
  let ttlMs = DEFAULT_JWT_TTL_MS;
  let pub: Buffer | undefined;
  let prv: Buffer | undefined;
  const ttl = opts.get('ttl') ?? '';
  const read = (file: string): Buffer => {
    try {
      return readFile(file);
    } catch {
      throw new Error(INVALID_AUTH_OPTS);
    }
  };
  if (ttl !== '') {
    const ms = parseGoDurationMs(ttl);
    if (ms === undefined) throw new Error(INVALID_AUTH_OPTS);
    ttlMs = ms;
  }
  const pubFile = opts.get('pub-key') ?? '';
  if (pubFile !== '') pub = read(pubFile);
  const prvFile = opts.get('priv-key') ?? '';
  if (prvFile !== '') prv = read(prvFile);
  const alg = opts.get('sign-method') ?? '';
  if (!METHODS.includes(alg)) throw new Error(INVALID_AUTH_OPTS);
  const unknownOptions = [...opts.keys()].filter((k) => !KNOWN_OPTIONS.has(k));
  // Go's ReadFile of an empty file gives no bytes: "missing key data" as for no file
  if (pub?.length === 0) pub = undefined;
  if (prv?.length === 0) prv = undefined;
  const unsupported = UNSUPPORTED[alg];
  if (unsupported !== undefined) throw new Error(`unsupported signing method: ${unsupported}`);
  if (alg.startsWith('HS')) {
    if (prv === undefined) throw new Error(MISSING_KEY);
    return { alg, signKey: prv, verifyKey: prv, ttlMs, unknownOptions };
  }
  const kind = alg.startsWith('ES') ? 'ec' : 'rsa';
  const keys = asymmetricKeys(kind, pub, prv);
  // jose signs and verifies with RSA keys of 2048 bits or more only (etcd takes smaller ones): refused at start, not at each Authenticate
  const bits = (keys.verifyKey as KeyObject).asymmetricKeyDetails?.modulusLength;
  if (kind === 'rsa' && bits !== undefined && bits < 2048) throw new Error(`auth: ${alg} needs an RSA key of 2048 bits or more (this one has ${bits})`);
  return { alg, ...keys, ttlMs, unknownOptions };
}
