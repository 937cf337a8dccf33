// The cli room: etcd 3.4's command line, ETCD_* environment and YAML config file → a typed Config.
//
// Model: one table of flags (flags.ts) drives every source. Values are typed by Go's rules
// (values.ts), so `--enable-v2=false`, `ETCD_ENABLE_V2=0` and `enable-v2: false` all give false.
// Worked example:
//   ETCD_NAME=infra1 etcd --name infra1 --listen-client-urls http://10.0.0.1:2379 \
//        --advertise-client-urls http://10.0.0.1:2379 --heartbeat-interval 0x32
//   → { name: 'infra1', dataDir: 'infra1.etcd', heartbeatIntervalMs: 50,
//       listenClientUrls: [URL http://10.0.0.1:2379], initialClusterRaw: 'infra1=http://localhost:2380', ... }
//
// Contract for main.ts (the only caller), in order:
//   1. handleEarlyAction(process.argv.slice(2)) → an exit code for --version / --help, else undefined
//   2. parseConfig(argv, process.env) → { config, warnings, notices }   (reads only --config-file)
//   3. log notices (info) and warnings (warn) through the root logger
//   4. await validateEnvironment(config, probe) → warnings    (before any data is opened)
//   5. start the server; on ConfigError / ListenError / TlsError print error.message as one line
//      to stderr and exit with (error as ConfigError).exitCode ?? 1
// Nothing else in the project imports this room.
import { earlyAction } from './config.js';
import { flagsText, usageText, versionText } from './help.js';

export { parseConfig, earlyAction, checkInitialCluster, ConfigError, EXIT_FLAG_PARSE, EXIT_VERIFY } from './config.js';
export type { Config, ParsedConfig, TransportSecurity, PeerTransportSecurity, LogLevel } from './config.js';
export { validateEnvironment, defaultProbe, probePort, type DataDirProbe, type ExistingData } from './validate.js';
export { ETCD_COMPAT_VERSION, ETCD_CLUSTER_VERSION, packageVersion, versionText, usageText, flagsText } from './help.js';
export { formatUrl, urlHost, urlPort } from './values.js';

export interface Output {
  write(s: string): unknown;
}

/**
 * Answer `etcd --version` (stdout) and `etcd --help` (usage on stderr, flags on stdout) as etcd does.
 * Returns the exit code (0) when one was answered, undefined otherwise. Throws ConfigError on a
 * command line that does not parse.
 */
export function handleEarlyAction(argv: string[], stdout: Output = process.stdout, stderr: Output = process.stderr): number | undefined {
  const action = earlyAction(argv);
  if (action === 'version') {
    stdout.write(versionText());
    return 0;
  }
  if (action === 'help') {
    stderr.write(usageText());
    stdout.write(flagsText());
    return 0;
  }
  return undefined;
}
