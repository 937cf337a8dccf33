/*
 * etcdutl: offline snapshot tools, with etcdctl 3.4's `snapshot status` and `snapshot restore`
 * flags, output, error texts and exit codes (1 for an error, 128 for bad arguments):
 *   etcdutl snapshot status FILE [-w simple|json|table|fields]
 *   etcdutl snapshot restore FILE [--name default] [--data-dir <name>.etcd] [--wal-dir ...]
 *     [--initial-cluster default=http://localhost:2380] [--initial-cluster-token etcd-cluster]
 *     [--initial-advertise-peer-urls http://localhost:2380] [--skip-hash-check]
 * FILE is a bbolt snapshot made by `etcdctl snapshot save` against ours or real etcd.
 */
import { existsSync, readFileSync } from 'node:fs';
import { BoltDb, checkDb, etcdDbStatus } from '../bbolt/index.js';
import { restoreSnapshot } from './snapshot-restore.js';
import { parseInitialCluster } from './build.js';
import { makeLogger } from './logger.js';
import { formatStatus, type WriteOut } from './etcdutl-format.js';
import { formatUrl, parseUrls } from './values.js';

const EXIT_ERROR = 1;
const EXIT_BAD_ARGS = 128;

class UsageError extends Error {}

const RESTORE_DEFAULTS: Record<string, string> = {
  name: 'default',
  'data-dir': '',
  'wal-dir': '',
  'initial-cluster': 'default=http://localhost:2380',
  'initial-cluster-token': 'etcd-cluster',
  'initial-advertise-peer-urls': 'http://localhost:2380',
  'skip-hash-check': 'false',
  'write-out': 'simple',
};
const BOOL_FLAGS = new Set(['skip-hash-check']);

/** Positional arguments and --flag value / --flag=value / -w value, as cobra reads them. */
function parseArgs(argv: string[]): { args: string[]; flags: Record<string, string> } {
  const args: string[] = [];
  const flags: Record<string, string> = { ...RESTORE_DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    let [name, value] = a.replace(/^--?/, '').split(/=(.*)/s) as [string, string | undefined];
    if (name === 'w') name = 'write-out';
    if (!(name in RESTORE_DEFAULTS)) throw new UsageError(`unknown flag: ${a}`);
    if (value === undefined) value = BOOL_FLAGS.has(name) ? 'true' : argv[++i];
    if (value === undefined) throw new UsageError(`flag needs an argument: ${a}`);
    flags[name] = value;
  }
  return { args, flags };
}

function status(file: string, out: string): string {
  if (!['simple', 'json', 'table', 'fields'].includes(out)) throw new Error(`${out} not supported as output format`);
  if (!existsSync(file)) throw new Error(`stat ${file}: no such file or directory`);
  const db = BoltDb.open(readFileSync(file));
  const problems = checkDb(db);
  if (problems.length > 0) throw new Error(`snapshot file integrity check failed. ${problems.length} errors found.\n${problems.join('\n')}`);
  return formatStatus(etcdDbStatus(db), out as WriteOut);
}

async function main(argv: string[]): Promise<number> {
  const [group, cmd, ...rest] = argv;
  if (group !== 'snapshot' || (cmd !== 'status' && cmd !== 'restore')) {
    process.stderr.write('Usage: etcdutl snapshot status FILE [-w simple|json|table|fields]\n       etcdutl snapshot restore FILE [flags]\n');
    return EXIT_BAD_ARGS;
  }
  const { args, flags } = parseArgs(rest);
  if (args.length !== 1) throw new UsageError(`snapshot ${cmd} requires exactly one argument`);
  const file = args[0] as string;
  if (cmd === 'status') {
    process.stdout.write(status(file, flags['write-out'] as string));
    return 0;
  }
  const logger = makeLogger({ logLevel: 'info', logOutputs: ['stderr'], logger: 'zap' });
  const ic = parseInitialCluster(flags['initial-cluster'] as string);
  await restoreSnapshot({
    snapshotPath: file,
    name: flags.name as string,
    dataDir: flags['data-dir'] as string,
    walDir: flags['wal-dir'] as string,
    initialCluster: new Map([...ic].map(([n, us]) => [n, us.map(formatUrl)])),
    initialClusterToken: flags['initial-cluster-token'] as string,
    peerURLs: parseUrls(flags['initial-advertise-peer-urls'] as string).map(formatUrl),
    skipHashCheck: flags['skip-hash-check'] === 'true',
  }, logger);
  await new Promise<void>((r) => logger.flush(() => r()));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof UsageError ? EXIT_BAD_ARGS : EXIT_ERROR;
  },
);
