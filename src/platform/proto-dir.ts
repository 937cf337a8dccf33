// Where the package's files read at run time are: proto/ (loaded by protobufjs and proto-loader) and
// package.json. The package root is the nearest directory above this module holding both; this
// module sits at src/platform/ (tsx), dist/platform/ (tsc) or in dist/bundle/ or its chunks/
// (the bundled build, scripts/bundle.mjs), so a fixed relative path would not do.
import { existsSync } from 'node:fs';
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
