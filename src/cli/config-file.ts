// etcd's YAML configuration file (`--config-file`, or ETCD_CONFIG_FILE). Keys are the flag names
// (`name`, `data-dir`, `listen-client-urls: http://a:2379,http://b:2379`, `log-outputs: [stderr]`);
// TLS settings are nested under `client-transport-security` and `peer-transport-security`:
//
//   name: infra1
//   initial-cluster: infra1=https://10.0.0.1:2380
//   client-transport-security:
//     cert-file: /etc/etcd/server.crt
//     key-file: /etc/etcd/server.key
//     client-cert-auth: true
//
// Returns raw strings per flag name; values are typed by the same parsers as flags and ETCD_*.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { flagSpec } from './flags.js';
import { verifyError } from './errors.js';

const CLIENT_SECURITY: Record<string, string> = {
  'cert-file': 'cert-file', 'key-file': 'key-file', 'client-cert-auth': 'client-cert-auth',
  'trusted-ca-file': 'trusted-ca-file', 'auto-tls': 'auto-tls', 'crl-file': 'client-crl-file',
  'allowed-hostname': 'client-cert-allowed-hostname',
};
const PEER_SECURITY: Record<string, string> = {
  'cert-file': 'peer-cert-file', 'key-file': 'peer-key-file', 'client-cert-auth': 'peer-client-cert-auth',
  'trusted-ca-file': 'peer-trusted-ca-file', 'auto-tls': 'peer-auto-tls', 'crl-file': 'peer-crl-file',
  'allowed-cn': 'peer-cert-allowed-cn', 'allowed-hostname': 'peer-cert-allowed-hostname',
};
const SECTIONS: Record<string, Record<string, string>> = {
  'client-transport-security': CLIENT_SECURITY,
  'peer-transport-security': PEER_SECURITY,
};

export interface FileValues {
  values: Map<string, string>;
  /** Where each value came from, for error lines: "heartbeat-interval in /etc/etcd/etcd.yml". */
  origin: Map<string, string>;
  warnings: string[];
}

function scalarToString(v: unknown): string | undefined {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => scalarToString(x) ?? '').join(',');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

export function readConfigFile(path: string): FileValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw verifyError(`open ${path}: ${why}`);
  }
  let doc: unknown;
  try {
    doc = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text); // loaded only for --config-file
  } catch (e) {
    throw verifyError(`error converting YAML to JSON: ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  const out: FileValues = { values: new Map(), origin: new Map(), warnings: [] };
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw verifyError(`config file ${path} is not a YAML mapping`);
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const section = SECTIONS[key];
    if (section) {
      readSection(path, key, value, section, out);
      continue;
    }
    setValue(path, key, key, value, out);
  }
  return out;
}

function readSection(path: string, key: string, value: unknown, map: Record<string, string>, out: FileValues): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) throw verifyError(`${key} in ${path} must be a mapping`);
  for (const [sub, v] of Object.entries(value as Record<string, unknown>)) {
    const flag = map[sub];
    if (flag === undefined) {
      out.warnings.push(`unknown key "${key}.${sub}" in config file ${path} (ignored)`);
      continue;
    }
    setValue(path, `${key}.${sub}`, flag, v, out);
  }
}

function setValue(path: string, key: string, flag: string, value: unknown, out: FileValues): void {
  if (flagSpec(flag) === undefined) {
    out.warnings.push(`unknown key "${key}" in config file ${path} (ignored)`);
    return;
  }
  const s = scalarToString(value);
  if (s === undefined) throw verifyError(`invalid value for ${key} in ${path}: expected a scalar or a list`);
  out.values.set(flag, s);
  out.origin.set(flag, `${key} in ${path}`);
}
