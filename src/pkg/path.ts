// POSIX path helpers for rooms that must not import node:path (wal/, and the simulated disk): the
// results are node:path's posix join, dirname and normalize for the same arguments, except that
// normalizePath and joinPath drop a trailing '/'.

/** Collapse '//' and '.', resolve '..' where it can, drop a trailing '/'; '' becomes '.'. */
export function normalizePath(p: string): string {
  if (p === '') return '.';
  const absolute = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  const body = out.join('/');
  if (absolute) return `/${body}`;
  return body === '' ? '.' : body;
}

/** node:path's posix join: the non-empty parts joined by '/', normalized. */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  return joined === '' ? '.' : normalizePath(joined);
}

/** node:path's posix dirname: everything before the last '/' (trailing slashes ignored). */
export function dirnamePath(p: string): string {
  if (p === '') return '.';
  let end = p.length;
  while (end > 1 && p[end - 1] === '/') end--;
  const slash = p.lastIndexOf('/', end - 1);
  if (slash < 0) return '.';
  if (slash === 0) return '/';
  return p.slice(0, slash);
}
