#!/usr/bin/env node
// The member's bundled build (`npm run build` runs it after tsc): src/cli/main.ts and its imports as
// a few ES module files in dist/bundle/ instead of the ~300 modules of dist/ and node_modules/, which
// Node would resolve, stat, read and compile one by one at every start. The dynamic import()s of
// the code stay lazy: each becomes a chunk of its own (esbuild's splitting). Packages with native
// addons or files found at run time (classic-level, @node-rs/*, yaml through createRequire) stay
// external and are loaded from node_modules/ as before. bin/etcd runs dist/bundle/etcd.js.
import { build } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await rm(join(root, 'dist/bundle'), { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { etcd: 'src/cli/main.ts', etcdutl: 'src/cli/etcdutl.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  external: ['classic-level', '@node-rs/*'],
  // the CommonJS packages inside call require(): give the ES module one
  banner: { js: "import { createRequire as __etcdCreateRequire } from 'node:module'; const require = __etcdCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  // Whitespace and comments out, names kept (stack traces, with the source maps). V8 keeps each
  // file's source in its heap, as two bytes a character if one character is not Latin-1: the
  // arrows in our comments doubled ~2.3 MB of the bundle's source that way. Checked below.
  minifyWhitespace: true,
  // for stack traces that name src/ lines: node --enable-source-maps bin/etcd ...
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  metafile: true,
});
// a file V8 would hold as a two-byte string (see minifyWhitespace): fail the build
for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  const text = await readFile(join(root, file), 'utf8');
  const at = text.search(/[^\x00-\xff]/);
  if (at >= 0) throw new Error(`${file} (${bytes} bytes) holds a character beyond Latin-1 at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}; escape it in the source`);
}
if (process.env.BUNDLE_META) await writeFile(process.env.BUNDLE_META, JSON.stringify(result.metafile));
// The client APIs' .proto files parsed once here, as JSON: a start reads it instead of parsing the
// text (src/api/v3/proto.ts; it falls back to the .proto files when they are newer than this file).
const { protoRootJson } = await import(new URL('../dist/api/v3/proto.js', import.meta.url).href);
await writeFile(join(root, 'dist/proto-root.json'), protoRootJson());
