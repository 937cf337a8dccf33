// One member of ours and one of etcd 3.4.23, the same workload on both (puts, gets, a txn, a delete,
// a lease grant and revoke, a watch, a compaction, a v2 set), then both /metrics scraped and compared
// family by family: every family etcd prints must be printed by ours (less EXCLUDED_FAMILIES, each with
// its reason in src/pkg/metrics-spec.ts), with the same TYPE, HELP, label names and histogram buckets.
// Values are not compared (timings, sizes, ids differ), only that the same things are counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCLUDED_FAMILIES } from '../../src/pkg/metrics-spec.js';
import { cleanup, ctlOk, etcdctl, startEtcd, startMember, type Member } from './harness.js';

interface Family {
  type: string;
  help: string;
  labels: Set<string>;
  buckets: string[];
  /** Each sample's value by its series, `name{labels}` as printed (label order aside). */
  values: Map<string, number>;
}

/** The text exposition format, as families: TYPE, HELP, label names over all samples, bucket bounds. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { type: '', help: '', labels: new Set(), buckets: [], values: new Map() }));
    return f;
  };
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP (\S+) (.*)$/.exec(line))) current = Object.assign(family(m[1]!), { help: m[2]! });
    else if ((m = /^# TYPE (\S+) (\S+)$/.exec(line))) current = Object.assign(family(m[1]!), { type: m[2]! });
    else if (line !== '' && !line.startsWith('#') && current) {
      m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
      if (!m) throw new Error(`unparsed metrics line: ${line}`);
      const labelText = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
      current.values.set(labelText ? `${m[1]!}{${labelText}}` : m[1]!, Number(m[3]));
      for (const [, label, value] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        if (label === 'le') {
          if (m[1]!.endsWith('_bucket') && !current.buckets.includes(String(Number(value)))) current.buckets.push(String(Number(value)));
        } else current.labels.add(label!);
      }
    }
  }
  return families;
}

const excluded = (name: string): boolean => EXCLUDED_FAMILIES.some(([prefix]) => name.startsWith(prefix));

/** Families a single etcd member does not print (Go's registry leaves out a vector with no series). */
const PEER_ONLY = /^etcd_network_(peer_|active_peers|disconnected_peers|snapshot_)/;

async function workload(m: Member): Promise<void> {
  await ctlOk(m, ['put', 'foo', 'bar']);
  await ctlOk(m, ['put', 'foo2', 'bar2']);
  await ctlOk(m, ['get', 'foo']);
  await ctlOk(m, ['get', 'foo', '--prefix', '--consistency=s']);
  await ctlOk(m, ['txn'], { input: 'value("foo") = "bar"\n\nput foo baz\nget foo2\n\n\n' });
  await ctlOk(m, ['del', 'foo2']);
  const lease = /lease ([0-9a-f]+) granted/.exec(await ctlOk(m, ['lease', 'grant', '60']))![1]!;
  await ctlOk(m, ['put', 'leased', 'v', '--lease', lease]);
  await ctlOk(m, ['lease', 'revoke', lease]);
  await etcdctl(m, ['watch', 'foo', '--rev', '1'], { killWhen: /baz/ });
  await ctlOk(m, ['compaction', '3']);
  await ctlOk(m, ['endpoint', 'hashkv']);
  await ctlOk(m, ['defrag']);
  const r = await fetch(`${m.clientUrl}/v2/keys/v2key`, { method: 'PUT', body: 'value=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(r.status).toBe(201);
  expect((await fetch(`${m.clientUrl}/v2/keys/v2key`)).status).toBe(200);
}

describe('/metrics: ours vs etcd 3.4.23 after the same workload', () => {
  let ours: Map<string, Family>;
  let etcd: Map<string, Family>;
  let oursText = '';
  beforeAll(async () => {
    const [o, e] = await Promise.all([startMember(), startEtcd({ args: ['--enable-v2=true'] })]);
    await Promise.all([workload(o), workload(e)]);
    oursText = await (await fetch(`${o.clientUrl}/metrics`)).text();
    ours = parseExposition(oursText);
    etcd = parseExposition(await (await fetch(`${e.clientUrl}/metrics`)).text());
  }, 120_000);
  afterAll(cleanup);

  it('prints every family etcd prints, less the documented exclusions', () => {
    const missing = [...etcd.keys()].filter((n) => !excluded(n) && !ours.has(n));
    expect(missing).toEqual([]);
    expect(etcd.size).toBeGreaterThan(100); // the scrape of etcd worked
  });

  it('excludes only families etcd has (the list is not stale) and prints none of them', () => {
    for (const [prefix] of EXCLUDED_FAMILIES) expect([...etcd.keys()].some((n) => n.startsWith(prefix)), prefix).toBe(true);
    expect([...ours.keys()].filter(excluded)).toEqual([]);
  });

  it('prints nothing etcd would not: ours-only families are the peer ones a single etcd leaves out, and our own etcd_ts_*', () => {
    expect([...ours.keys()].filter((n) => !etcd.has(n) && !PEER_ONLY.test(n) && !n.startsWith('etcd_ts_'))).toEqual([]);
  });

  it('has etcd\'s TYPE, HELP, label names and histogram buckets for each family', () => {
    const diffs: string[] = [];
    for (const [name, e] of etcd) {
      const o = ours.get(name);
      if (!o) continue;
      if (o.type !== e.type) diffs.push(`${name}: TYPE ${o.type}, etcd ${e.type}`);
      if (o.help !== e.help) diffs.push(`${name}: HELP ${JSON.stringify(o.help)}, etcd ${JSON.stringify(e.help)}`);
      const [ol, el] = [[...o.labels].sort().join(','), [...e.labels].sort().join(',')];
      if (ol !== el) diffs.push(`${name}: labels {${ol}}, etcd {${el}}`);
      if (o.buckets.join(',') !== e.buckets.join(',')) diffs.push(`${name}: buckets ${o.buckets.join(',')}, etcd ${e.buckets.join(',')}`);
    }
    expect(diffs).toEqual([]);
  });

  it('counts what the workload did as etcd counts it', () => {
    const value = (fams: Map<string, Family>, series: string): number | undefined => {
      for (const f of fams.values()) if (f.values.has(series)) return f.values.get(series);
      return undefined;
    };
    const same = [
      'etcd_server_has_leader', 'etcd_server_is_leader', 'etcd_server_is_learner',
      'etcd_mvcc_put_total', 'etcd_mvcc_delete_total', 'etcd_mvcc_txn_total', 'etcd_debugging_mvcc_put_total',
      'etcd_debugging_mvcc_total_put_size_in_bytes', 'etcd_debugging_mvcc_current_revision', 'etcd_debugging_mvcc_compact_revision',
      'etcd_debugging_mvcc_keys_total', 'etcd_debugging_mvcc_watch_stream_total', 'etcd_debugging_mvcc_watcher_total',
      'etcd_debugging_lease_granted_total', 'etcd_debugging_lease_revoked_total', 'etcd_debugging_lease_ttl_total_sum',
      'etcd_cluster_version{cluster_version="3.4"}', 'etcd_http_received_total{method="PUT"}', 'etcd_http_received_total{method="GET"}',
      'etcd_debugging_store_writes_total{action="set"}', 'etcd_debugging_store_writes_total{action="create"}',
      'etcd_server_client_requests_total{client_api_version="3.4",type="unary"}', 'etcd_disk_defrag_inflight',
      'etcd_mvcc_hash_rev_duration_seconds_count', 'etcd_disk_backend_defrag_duration_seconds_count',
      'etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds_count', 'etcd_debugging_mvcc_db_compaction_keys_total',
      'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_count',
      'etcd_server_client_requests_total{client_api_version="3.4",type="stream"}',
    ];
    const diffs = same.filter((s) => value(ours, s) !== value(etcd, s)).map((s) => `${s}: ours ${value(ours, s)}, etcd ${value(etcd, s)}`);
    expect(diffs).toEqual([]);
    expect(oursText).toMatch(/^etcd_network_client_grpc_received_bytes_total [1-9]/m);
    expect(oursText).toMatch(/^etcd_mvcc_range_total [1-9]/m);
    expect(oursText).toMatch(/^process_resident_memory_bytes [1-9]/m);
    expect(oursText).toMatch(/^process_open_fds [1-9]/m);
  });
});
