// parseConfig: the command line, ETCD_* variables or a YAML config file → a typed Config.
//
// Sources and precedence (etcd 3.4.23, with one kinder departure):
//   1. `--config-file x.yml` (or ETCD_CONFIG_FILE): the file alone decides; other flags and ETCD_*
//      variables are ignored (we warn that they are, etcd is silent).
//   2. otherwise defaults ← ETCD_* ← command line. A flag given both ways with different values:
//      the command line wins and a warning names both (etcd 3.4 exits instead).
// Errors are ConfigError: one line in etcd's wording, exit code 2 for a command line that does not
// parse (`flag provided but not defined: -bogus`), 1 for values that do not make a valid
// configuration (`error verifying flags, ... See 'etcd --help'.`).
import { FLAGS, flagSpec, flagToEnv, type FlagSpec } from './flags.js';
import { ConfigError, EXIT_FLAG_PARSE, verifyError } from './errors.js';
import { parseCommandLine } from './command-line.js';
import { readEnvironment } from './env.js';
import { readConfigFile } from './config-file.js';
import { ValueError, parseFlagValue, type FlagValue } from './values.js';
import { buildConfig } from './build.js';
import type { Config } from './config-types.js';

export type { Config, TransportSecurity, PeerTransportSecurity, LogLevel } from './config-types.js';
export { ConfigError, EXIT_FLAG_PARSE, EXIT_VERIFY } from './errors.js';
export { checkInitialCluster } from './build.js';

export interface ParsedConfig {
  config: Config;
  /** Things the operator should fix (conflicting ETCD_* and flag, unknown variables, ignored flags). */
  warnings: string[];
  /** Informational lines etcd logs at start ("recognized and used environment variable ..."). */
  notices: string[];
}

type Origin = { kind: 'flag' | 'env' | 'file'; where: string };

function valueError(spec: FlagSpec, raw: string, origin: Origin, e: ValueError): ConfigError {
  if (origin.kind === 'flag') {
    const what = spec.kind === 'bool' ? `invalid boolean value "${raw}" for -${spec.name}` : `invalid value "${raw}" for flag -${spec.name}`;
    return new ConfigError(`${what}: ${e.message}`, EXIT_FLAG_PARSE);
  }
  return verifyError(`invalid value "${raw}" for ${origin.where}: ${e.message}`);
}

function parseAll(raw: Map<string, string>, origins: Map<string, Origin>): Map<string, FlagValue> {
  const values = new Map<string, FlagValue>();
  for (const spec of FLAGS) values.set(spec.name, parseFlagValue(spec, spec.default));
  for (const [name, s] of raw) {
    const spec = flagSpec(name)!;
    try {
      values.set(name, parseFlagValue(spec, s));
    } catch (e) {
      if (e instanceof ValueError) throw valueError(spec, s, origins.get(name)!, e);
      throw e;
    }
  }
  return values;
}

/**
 * Parse etcd's configuration. `argv` excludes node and the script (process.argv.slice(2)).
 * Does not touch the disk except to read --config-file. Throws ConfigError.
 * Callers handle --version and --help first with `earlyAction(argv)`.
 */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ParsedConfig {
  const cl = parseCommandLine(argv);
  const warnings: string[] = [];
  const notices: string[] = [];
  const raw = new Map<string, string>();
  const origins = new Map<string, Origin>();
  const configFile = cl.configFile ?? (env['ETCD_CONFIG_FILE'] || undefined);
  if (configFile !== undefined) {
    notices.push(`Loading server configuration from ${JSON.stringify(configFile)}. Other configuration command line flags and environment variables will be ignored if provided.`);
    for (const name of cl.values.keys()) warnings.push(`flag --${name} is ignored because --config-file is set`);
    const file = readConfigFile(configFile);
    warnings.push(...file.warnings);
    for (const [name, s] of file.values) {
      raw.set(name, s);
      origins.set(name, { kind: 'file', where: file.origin.get(name)! });
    }
  } else {
    const fromEnv = readEnvironment(env, cl.values);
    warnings.push(...fromEnv.warnings);
    notices.push(...fromEnv.notices);
    for (const [name, s] of fromEnv.values) {
      raw.set(name, s);
      origins.set(name, { kind: 'env', where: flagToEnv(name) });
    }
    for (const [name, s] of cl.values) {
      raw.set(name, s);
      origins.set(name, { kind: 'flag', where: `-${name}` });
    }
  }
  const values = parseAll(raw, origins);
  const config = buildConfig(values, new Set(raw.keys()), configFile ?? '', warnings);
  return { config, warnings, notices };
}

/** --version and --help are answered before anything else, as etcd does. */
export function earlyAction(argv: string[]): 'version' | 'help' | undefined {
  const cl = parseCommandLine(argv);
  if (cl.version) return 'version';
  if (cl.help) return 'help';
  return undefined;
}
