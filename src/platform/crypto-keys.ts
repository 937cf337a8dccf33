// Node's key objects for the JWT keys of --auth-token (auth/jwt-options.ts parses them as etcd does).
export { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
