// Where the package's files read at run time are: proto/ (loaded by protobufjs and proto-loader) and
// package.json. The package root is the nearest directory above this module holding both; this
// module sits at src/platform/ (tsx), dist/platform/ (tsc) or in dist/bundle/ or its chunks/
// (the bundled build, scripts/bundle.mjs), so a fixed relative path would not do.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  for (let dir = from; ; ) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package root (package.json and proto/) above ${from}`);
    dir = up;
  }
}

/** The package's root directory, with a trailing '/'. */
export const packageRoot = join(findPackageRoot(dirname(fileURLToPath(import.meta.url))), '/');

/** The proto/ directory, with a trailing '/'. */
export const protoDir = join(packageRoot, 'proto', '/');

/**
 * The protobufjs root of the client APIs' .proto files as JSON (Root.toJSON), written by the build
 * (scripts/bundle.mjs) so that a start need not parse the .proto text (~25 ms of CPU).
 */
export const protoRootJsonPath = join(packageRoot, 'dist', 'proto-root.json');

/** The build's JSON root (parsed), or undefined when there is none or a .proto file is newer than it. */
export function readPrebuiltProtoRoot(): unknown {
  try {
    const made = statSync(protoRootJsonPath).mtimeMs;
    for (const f of readdirSync(protoDir)) if (statSync(join(protoDir, f)).mtimeMs > made) return undefined;
    return JSON.parse(readFileSync(protoRootJsonPath, 'utf8'));
  } catch {
    return undefined;
  }
}
