// The v2 API transcript: curl and `ETCDCTL_API=2 etcdctl` steps run in order against one fresh member,
// each output masked (ids, ports, dates, expiration times) and normalized (header names lowercased but
// kept in order; Date dropped, and Connection/Keep-Alive, which Node adds; Content-Length masked only
// when its body held masked text), so the transcripts of real etcd 3.4 --enable-v2 and ours compare
// line by line.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { lineDiff, maskOutput } from './mask.js';
import { ETCD_BIN, ETCDCTL_BIN, run, startEtcd, startMember, tempDir, type Member } from './harness.js';

/** One step: `curl <args>` (URL paths start with "/", the member's URL is prefixed), or etcdctl v2. */
export type Step =
  | { curl: string[] }
  | { ctl: string[]; env?: Record<string, string>; killAfterMs?: number }
  /** Start `parallel` (it must end by itself: curl -m, killAfterMs), run `then` 700 ms later; all outputs recorded. */
  | { parallel: Step; then: Step[] }
  /** From here on X-Raft-Index is masked (SYNC entries make it depend on timing). */
  | { maskRaftIndex: true };

const DROP_HEADERS = new Set(['date', 'connection', 'keep-alive']);

/** Normalizes one HTTP response as printed by `curl -si` (possibly several: 100 Continue, 301). */
export function normalizeHttp(raw: string, m: Member, maskRaftIndex = false): string {
  const blocks: string[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const head = end < 0 ? rest : rest.slice(0, end);
    rest = end < 0 ? '' : rest.slice(end + 4);
    const [status, ...lines] = head.split('\r\n');
    blocks.push(status!, ...normalizeHeaders(lines, rest, m, maskRaftIndex), '');
  }
  return `${blocks.join('\n')}${maskOutput(rest, m)}`;
}

function normalizeHeaders(lines: string[], body: string, m: Member, maskRaftIndex: boolean): string[] {
  const bodyMasked = maskOutput(body, m) !== body;
  const out: string[] = [];
  for (const line of lines) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).toLowerCase();
    let value = line.slice(i + 1).trim();
    if (DROP_HEADERS.has(name)) continue;
    if (name === 'content-length' && bodyMasked) value = '<N>';
    if (name === 'x-raft-index' && maskRaftIndex) value = '<RAFT-INDEX>';
    out.push(`${name}: ${maskOutput(value, m)}`);
  }
  return out;
}

interface RunState { dir: string; maskRaftIndex: boolean }

async function runStep(step: Step, m: Member, st: RunState): Promise<string> {
  if ('maskRaftIndex' in step) {
    st.maskRaftIndex = true;
    return '(X-Raft-Index masked from here on)';
  }
  if ('curl' in step) {
    const args = step.curl.map((a) => (a.startsWith('/') ? `${m.clientUrl}${a}` : a.replace('@DIR/', `${st.dir}/`)));
    const r = await run('curl', ['-si', '-m', '5', ...args], { timeoutMs: 15_000 });
    return `$ curl ${step.curl.join(' ')}\n${normalizeHttp(r.stdout, m, st.maskRaftIndex)}\n[exit ${r.code}]`;
  }
  if ('ctl' in step) {
    const r = await run(ETCDCTL_BIN, ['--endpoints', m.clientUrl, ...step.ctl], { env: { ETCDCTL_API: '2', ...step.env }, timeoutMs: step.killAfterMs ?? 15_000 });
    return `$ etcdctl ${step.ctl.join(' ')}\n${maskOutput(r.stdout + r.stderr, m)}[exit ${r.code}]`;
  }
  const first = runStep(step.parallel, m, st);
  await new Promise((r) => setTimeout(r, 700));
  const thens: string[] = [];
  for (const t of step.then) thens.push(await runStep(t, m, st));
  return `${await first}\n${thens.join('\n')}`;
}

/** Runs every step against `m`; returns the masked transcript. */
export async function runTranscript(steps: readonly Step[], m: Member): Promise<string> {
  const dir = await tempDir('v2-data-');
  await writeFile(join(dir, 'big.txt'), 'v'.repeat(3000));
  await writeFile(join(dir, 'huge.txt'), 'h'.repeat(2 * 1024 * 1024));
  await writeFile(join(dir, 'too-large.txt'), `value=${'t'.repeat(11_000_000)}`);
  const out: string[] = [];
  const st: RunState = { dir, maskRaftIndex: false };
  for (const s of steps) out.push(await runStep(s, m, st));
  return out.join('\n');
}

/** A fresh member of ours (v2 on by default) and one of etcd 3.4 --enable-v2 (undefined: etcd is not installed). */
export function startV2Pair(): Promise<[Member, Member | undefined]> {
  return Promise.all([
    startMember({ ready: 'status' }),
    existsSync(ETCD_BIN) ? startEtcd({ ready: 'status', args: ['--enable-v2'] }) : Promise.resolve(undefined),
  ]);
}

/** Runs `steps` on both at once; fails with a line diff unless they print the same. Returns etcd's transcript. */
export async function expectSameTranscripts(steps: readonly Step[], etcd: Member | undefined, ours: Member): Promise<string> {
  if (etcd === undefined) throw new Error(`${ETCD_BIN} missing: apt-get install -y etcd-server`);
  const [a, b] = await Promise.all([runTranscript(steps, etcd), runTranscript(steps, ours)]);
  if (a !== b) expect.fail(`transcripts differ:\n${lineDiff(a, b, 'etcd', 'ours')}`);
  return a;
}
