// A new member's advertised peer URLs against its --initial-cluster entry, as etcd 3.4 checks them at
// bootstrap (the member's start and etcdctl snapshot restore alike).

/** etcd's ServerConfig.advertiseMatchesCluster (VerifyBootstrap): its refusal, or undefined when they match. */
export function advertiseMismatch(name: string, advertised: string[], listed: string[]): string | undefined {
  const ap = [...advertised].sort();
  const q = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
  let err: string | undefined;
  if (ap.length !== listed.length) err = `len(${q(ap)}) != len(${q(listed)})`;
  else {
    const i = ap.findIndex((u, k) => u !== listed[k]);
    if (i >= 0) err = `resolved urls: ${JSON.stringify(ap[i])} != ${JSON.stringify(listed[i])}`;
  }
  if (err === undefined) return undefined;
  const apSet = new Set(ap);
  const listedSet = new Set(listed);
  const umap = [...apSet].map((u) => `${name}=${u}`).sort().join(',');
  const missing = [...listedSet].filter((u) => !apSet.has(u));
  if (missing.length > 0) {
    return `--initial-cluster has ${missing.map((u) => `${name}=${u}`).join(',')} but missing from --initial-advertise-peer-urls=${ap.join(',')} (${err})`;
  }
  const extra = [...apSet].filter((u) => !listedSet.has(u));
  if (extra.length > 0) return `--initial-advertise-peer-urls has ${extra.join(',')} but missing from --initial-cluster=${umap}`;
  return `failed to resolve ${ap.join(',')} to match --initial-cluster=${umap} (${err})`;
}
