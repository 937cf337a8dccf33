/*
 * MemberIo: everything of the outside world a member touches, handed to it at construction
 * (ServerConfig.io): the disk its WAL, snapshots and snapshot databases live on, the store under its
 * backend, its peer transport, its clock and timers, and randomness for tokens. Production wires
 * platform/ and transport/ (nodeIo); the seeded simulation wires in-memory fakes (test/sim/member/),
 * so the member's own code, from the Ready loop down, runs unchanged under a seed.
 */
import type { Engines } from '../backend/index.js';
import type { Clock } from '../pkg/clock.js';
import type { Disk } from '../pkg/disk.js';
import { systemClock } from '../platform/clock.js';
import { nodeDisk, readFileNow } from '../platform/fs.js';
import { levelEngines } from '../platform/level.js';
import { randomUint } from '../platform/random.js';
import { PeerTransport, type MemberTransport, type PeerTransportOptions } from '../transport/index.js';
import { dialGet, type PeerAnswer, type PeerClientTls } from '../transport/dial.js';

export interface MemberIo {
  disk: Disk;
  engines: Engines;
  clock: Clock;
  newTransport(opts: PeerTransportOptions): MemberTransport;
  /**
   * One GET to a peer URL, on a connection of its own, and its whole answer: how a member joining a
   * running cluster asks an existing member for GET /members before it has a transport
   * (join-existing.ts). Production dials HTTP(S) (transport/dial.ts); the simulation answers from the
   * peer API of the member the URL reaches over its network.
   */
  peerGet(url: string, path: string, tls: PeerClientTls | undefined, timeoutMs: number): Promise<PeerAnswer>;
  /** A uniform integer in [0, n). */
  randomInt(n: number): number;
  /** Reads a file at start-up (the JWT keys of --auth-token); absent where there is no file system. */
  readFileSync?(file: string): Buffer;
  /**
   * The event loop's cumulative idle time in ms, for the Ready loop's choice to write a lone entry on
   * the loop's thread (raft-node.ts); without it that choice is never made.
   */
  idleMs?(): number;
}

/** The member's I/O: Node's file system and timers, LevelDB, etcd's peer protocol over HTTP. */
export const nodeIo: MemberIo = {
  disk: nodeDisk,
  engines: levelEngines,
  clock: systemClock,
  newTransport: (opts) => new PeerTransport(opts),
  peerGet: dialGet,
  randomInt: randomUint,
  readFileSync: readFileNow,
  idleMs: () => systemClock.idleMs(),
};

export function ioOf(cfg: { io?: MemberIo }): MemberIo {
  return cfg.io ?? nodeIo;
}
