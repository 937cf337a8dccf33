/*
 * Paths and tree walking shared by the store's operations. Keys are cleaned as Go's path.Clean does
 * ("//a/./b/../c/" → "/a/c"); a user key is cleaned before the "/1" prefix is put in front, so ".."
 * can never climb out of the user's key space.
 */
import { V2Error, V2ErrorCode } from './errors.js';
import { KEYS_PREFIX, userKey, V2Node } from './node.js';

/** Go's path.Clean of "/" + p: rooted, no empty, "." or ".." segments, no trailing slash. */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** The internal path of a user key: "foo/bar" → "/1/foo/bar", "/" → "/1". */
export function internalPath(key: string): string {
  const clean = cleanPath(key);
  return clean === '/' ? KEYS_PREFIX : `${KEYS_PREFIX}${clean}`;
}

export function splitPath(p: string): { dir: string; name: string } {
  const i = p.lastIndexOf('/');
  return { dir: i <= 0 ? '/' : p.slice(0, i), name: p.slice(i + 1) };
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function segments(p: string): string[] {
  return p.split('/').filter((s) => s !== '');
}

/** Finds the node at an internal path: 100 for a missing segment, 104 when walking through a file. */
export function lookup(root: V2Node, p: string, currentIndex: number): V2Node {
  let n = root;
  for (const seg of segments(p)) {
    if (n.children === undefined) throw new V2Error(V2ErrorCode.NotDir, userKey(n.path), currentIndex);
    const child = n.children.get(seg);
    if (child === undefined) {
      throw new V2Error(V2ErrorCode.KeyNotFound, userKey(joinPath(n.path, seg)), currentIndex);
    }
    n = child;
  }
  return n;
}

/** Finds or makes (at `index`, permanent) the directory at `p`: 104 when a segment is a file. */
export function ensureDir(root: V2Node, p: string, index: number, currentIndex: number): V2Node {
  let n = root;
  for (const seg of segments(p)) {
    const kids = n.children as Map<string, V2Node>;
    let child = kids.get(seg);
    if (child === undefined) {
      child = V2Node.dir(joinPath(n.path, seg), index, n);
      kids.set(seg, child);
    } else if (!child.isDir()) {
      throw new V2Error(V2ErrorCode.NotDir, userKey(child.path), currentIndex);
    }
    n = child;
  }
  return n;
}

/** The 20-digit zero-padded name of an in-order key (POST). */
export function uniqueName(index: number): string {
  return String(index).padStart(20, '0');
}
