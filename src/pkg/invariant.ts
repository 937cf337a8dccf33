/*
 * Assertions outside raft, as TigerBeetle writes them: a cheap check of something that can only be
 * false through a bug (or a disk that lies), which stops the member rather than let it serve wrong
 * data. A broken one throws InvariantError (raft's RaftInvariantError is one too); the Ready loop
 * hands it to the member's fatal path (server.ts die: one fatal log line, then exit status 1). Never
 * caught to carry on. Each check is a compare on values at hand, written as a plain `if`, so the
 * hot paths allocate nothing (not even a message closure) unless it fails:
 *
 *   if (first > last + 1) throw new InvariantError('wal', `save: entry ${first} does not follow last index ${last}`);
 */

export class InvariantError extends Error {
  override name = 'InvariantError';
  constructor(
    /** The room whose invariant broke (wal, mvcc, backend, server, raft). */
    readonly room: string,
    message: string,
  ) {
    super(`${room}: ${message}`);
  }
}
