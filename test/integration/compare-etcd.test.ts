// The same sequence of etcdctl 3.4 commands against real etcd 3.4.23 and against ours, each on a fresh
// single member: every output (stdout, stderr, exit code) must be identical after masking only
// ids (cluster/member/lease, hex and decimal), ports, timings and sizes. Revisions, raft terms and
// raft indexes, hashes and error texts are compared as they are. A failure prints a line diff.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, etcdctl, startEtcd, startMember, type Member } from './harness.js';
import { maskOutput, lineDiff } from './mask.js';
import { STEPS, type Step } from '../fixtures/integration/compare-steps.js';

interface Transcript {
  text: string;
  blocks: string[];
}

async function play(m: Member, steps: Step[]): Promise<Transcript> {
  const vars = new Map<string, string>();
  const blocks: string[] = [];
  for (const s of steps) {
    const args = s.args.map((a) => a.replace(/\$(\w+)/g, (_, v: string) => vars.get(v) ?? `$${v}`));
    const r = await etcdctl(m, args, { input: s.input, killWhen: s.killWhen });
    if (s.capture) {
      const hit = s.capture.re.exec(r.stdout);
      if (hit) vars.set(s.capture.name, hit[1]!);
    }
    if (s.settleMs) await new Promise((res) => setTimeout(res, s.settleMs));
    const code = r.code === null ? 'killed' : String(r.code);
    const out = `$ etcdctl ${args.join(' ')}${s.input ? ` <<< ${JSON.stringify(s.input)}` : ''}\n[exit ${code}]\n${r.stdout}${r.stderr ? `--- stderr\n${r.stderr}` : ''}`;
    blocks.push(maskOutput(out, m));
  }
  return { text: blocks.join('\n'), blocks };
}

describe('etcdctl transcript: ours vs etcd 3.4.23', () => {
  let ours: Member;
  let etcd: Member;
  beforeAll(async () => {
    // readiness through Maintenance.Status: etcd's /health proposes a QGET (one raft index)
    [ours, etcd] = await Promise.all([startMember({ ready: 'status' }), startEtcd({ ready: 'status' })]);
  });
  afterAll(cleanup);

  it(`${STEPS.length} commands give identical masked outputs`, async () => {
    const [a, b] = await Promise.all([play(etcd, STEPS), play(ours, STEPS)]);
    const keep = process.env.COMPARE_TRANSCRIPT_DIR; // to read both transcripts after a run
    if (keep) await Promise.all([writeFile(join(keep, 'etcd.txt'), a.text), writeFile(join(keep, 'ours.txt'), b.text)]);
    const diffs: string[] = [];
    a.blocks.forEach((blk, i) => {
      if (blk !== b.blocks[i]) diffs.push(lineDiff(blk, b.blocks[i] ?? '', 'etcd 3.4.23', 'ours'));
    });
    expect(diffs.length, `${diffs.length} of ${STEPS.length} steps differ:\n\n${diffs.join('\n\n')}`).toBe(0);
  }, 120_000);
});
