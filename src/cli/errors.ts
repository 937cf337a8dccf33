// Configuration errors: one clear line (what and where) and the exit code etcd 3.4.23 uses.
// Exit 2 = the command line itself did not parse (Go's flag package); exit 1 = the values parsed
// but do not make a valid configuration ("error verifying flags, ...") or the environment is unfit.

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
