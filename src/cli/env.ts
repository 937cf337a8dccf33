// ETCD_* environment variables: every flag `--foo-bar` reads ETCD_FOO_BAR when the flag is not on
// the command line. Departure from etcd 3.4 (which refuses to start): when both are set and differ,
// the command line wins and a warning names both; when they agree, they are simply accepted.
// Unknown ETCD_* variables draw etcd's warning "unrecognized environment variable ETCD_FOO=1".
import { SNAPSHOT_CATCH_UP_ENTRIES } from '../server/config.js';
import { ConfigError } from './errors.js';
import { FLAGS, flagToEnv, type FlagSpec } from './flags.js';
import { canonical, parseFlagValue } from './values.js';

/** ETCD_* names that are not flags but are read elsewhere, so they must not draw a warning. */
const NOT_FLAGS = new Set(['ETCD_CONFIG_FILE', 'ETCD_FAILPOINTS', 'ETCD_UNSUPPORTED_ARCH', 'ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES', 'ETCD_TS_WAL_SEGMENT_BYTES', 'ETCD_TS_HTTP2', 'ETCD_TS_HTTP1', 'ETCD_TS_TRACE_PUT']);
/** --version and --help have ETCD_* twins in etcd; images that set ETCD_VERSION=3.4.x must still start. */
const META = new Set(['ETCD_VERSION', 'ETCD_HELP']);

const ENV_TO_FLAG = new Map<string, FlagSpec>(FLAGS.map((s) => [flagToEnv(s.name), s]));

export interface EnvMerge {
  /** flag name → raw value taken from the environment (flags absent from the command line). */
  values: Map<string, string>;
  warnings: string[];
  notices: string[];
}

function sameValue(spec: FlagSpec, a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return canonical(parseFlagValue(spec, a)) === canonical(parseFlagValue(spec, b));
  } catch {
    return false;
  }
}

export function readEnvironment(env: NodeJS.ProcessEnv, commandLine: ReadonlyMap<string, string>): EnvMerge {
  const out: EnvMerge = { values: new Map(), warnings: [], notices: [] };
  for (const key of Object.keys(env).sort()) {
    if (!key.startsWith('ETCD_')) continue;
    const value = env[key] ?? '';
    const spec = ENV_TO_FLAG.get(key);
    if (spec === undefined) {
      if (META.has(key)) out.warnings.push(`ignored environment variable ${key}=${value} (it would set --${key.slice(5).toLowerCase()})`);
      else if (!NOT_FLAGS.has(key)) out.warnings.push(`unrecognized environment variable ${key}=${value}`);
      continue;
    }
    if (value === '') continue;
    const cli = commandLine.get(spec.name);
    if (cli === undefined) {
      out.values.set(spec.name, value);
      out.notices.push(`recognized and used environment variable ${key}=${value}`);
    } else if (!sameValue(spec, cli, value)) {
      out.warnings.push(
        `environment variable ${key}=${JSON.stringify(value)} differs from command-line flag ` +
          `--${spec.name}=${JSON.stringify(cli)}; using the command-line value`,
      );
    }
  }
  return out;
}

/**
 * Entries a leader keeps behind a snapshot for slow followers: etcd 3.4's fixed 5000, unless the
 * internal, test-only ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES (a positive integer) says otherwise, so tests
 * can make a follower need a snapshot without writing thousands of keys (etcd 3.4 has no flag for it).
 */
export function snapshotCatchUpEntries(env: NodeJS.ProcessEnv): number {
  const v = env.ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES;
  if (v === undefined || v === '') return SNAPSHOT_CATCH_UP_ENTRIES;
  if (!/^[1-9][0-9]*$/.test(v)) throw new ConfigError(`invalid ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES ${JSON.stringify(v)} (a positive integer)`);
  return Number(v);
}

/**
 * The size of a WAL segment: etcd's 64 MB, unless the internal, test-only ETCD_TS_WAL_SEGMENT_BYTES
 * (an integer of at least 4096) says otherwise, so that a test reaches a segment cut (and the
 * walCutBeforeRename failpoint) without writing 64 MB. Undefined: the default.
 */
export function walSegmentBytes(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.ETCD_TS_WAL_SEGMENT_BYTES;
  if (v === undefined || v === '') return undefined;
  if (!/^[1-9][0-9]*$/.test(v) || Number(v) < 4096) throw new ConfigError(`invalid ETCD_TS_WAL_SEGMENT_BYTES ${JSON.stringify(v)} (an integer of at least 4096)`);
  return Number(v);
}
