// Configuration errors: one clear line (what and where) and the exit code etcd 3.4.23 uses.
// Exit 2 = the command line itself did not parse (Go's flag package); exit 1 = the values parsed
// but do not make a valid configuration ("error verifying flags, ...") or the environment is unfit.
import { InvariantError } from '../pkg/invariant.js';
import { SnapshotCorruptError, WalCorruptError } from '../wal/index.js';

export const EXIT_FLAG_PARSE = 2;
export const EXIT_VERIFY = 1;

export class ConfigError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_VERIFY) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** etcd's wrapper for errors found after parsing: "error verifying flags, <why>. See 'etcd --help'." */
export function verifyError(why: string): ConfigError {
  return new ConfigError(`error verifying flags, ${why}. See 'etcd --help'.`, EXIT_VERIFY);
}

/**
 * Damage found while the member starts: a corrupt WAL or snapshot file, or a broken invariant. The
 * member refuses to start (exit 1) after one fatal log line saying which; serving from a log or
 * state it cannot trust could serve wrong data.
 */
export function damageOf(err: unknown): string | undefined {
  if (err instanceof WalCorruptError) return 'the WAL is corrupt; refusing to start';
  if (err instanceof SnapshotCorruptError) return 'a snapshot file is corrupt; refusing to start';
  if (err instanceof InvariantError) return 'an invariant is broken; refusing to start';
  return undefined;
}
