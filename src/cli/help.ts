// `etcd --version` and `etcd --help`, laid out as etcd 3.4.23 prints them (usage on stderr, the
// flag list on stdout, exit 0). The first version line reports the etcd API level we implement, so
// scripts that gate on "etcd Version: 3.4" keep working; our own package version stands in the
// "Git SHA" line and the Node.js runtime replaces the Go lines:
//
//   etcd Version: 3.4.23
//   Git SHA: etcd-ts 0.1.0
//   Node Version: v20.20.2
//   Node OS/Arch: linux/amd64
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../platform/proto-dir.js';
import { FLAGS, type FlagGroup } from './flags.js';

/** The etcd server version whose behaviour we reproduce (also served by GET /version). */
export const ETCD_COMPAT_VERSION = '3.4.23';
/** The cluster version etcd 3.4 reports ("etcdcluster" in /version). */
export const ETCD_CLUSTER_VERSION = '3.4.0';

/** Our package's name and version, read from the package root's package.json. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { name?: string; version?: string };
    return `${pkg.name ?? 'etcd-ts'} ${pkg.version ?? 'unknown'}`;
  } catch {
    return 'etcd-ts unknown';
  }
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

export function versionText(): string {
  return [
    `etcd Version: ${ETCD_COMPAT_VERSION}`,
    `Git SHA: ${packageVersion()}`,
    `Node Version: ${process.version}`,
    `Node OS/Arch: ${process.platform}/${GO_ARCH[process.arch] ?? process.arch}`,
    '',
  ].join('\n');
}

/** The part etcd writes to stderr. */
export function usageText(): string {
  return [
    'Usage:', '',
    '  etcd [flags]', '    Run the etcd server.', '',
    '  etcd --version', '    Print the version and exit.', '',
    '  etcd -h | --help', '    Print this help and exit.', '',
    '  etcd --config-file',
    '    Read the server configuration from a YAML file; other flags and ETCD_* variables are then ignored.',
    '',
    '  etcd gateway', '    Not supported by this implementation.', '',
    '  etcd grpc-proxy', '    Not supported by this implementation.', '', '',
  ].join('\n');
}

/** The part etcd writes to stdout: every flag by group with its default. */
export function flagsText(): string {
  const lines: string[] = [];
  let group: FlagGroup | undefined;
  for (const spec of FLAGS) {
    if (spec.group !== group) {
      if (group === 'Unsafe feature') lines.push('', 'Unsafe flags can break the guarantees of the consensus protocol: use them with care.');
      group = spec.group;
      lines.push('', `${group}:`);
      if (group === 'TO BE DEPRECATED') lines.push('');
    }
    const shown = spec.shownDefault ?? spec.default;
    lines.push(`  --${spec.name} ${spec.unquoted ? shown : `'${shown}'`}`, `    ${spec.help}`);
  }
  lines.push('');
  return lines.join('\n');
}
