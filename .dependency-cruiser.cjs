/* The arrows of ../shared/DESIGN.md ("Rooms and what each may import"), checked in CI. */
const room = (name) => `^src/${name}/`;
module.exports = {
  forbidden: [
    { name: 'pkg-is-a-leaf', severity: 'error', from: { path: room('pkg') }, to: { path: '^src/', pathNot: room('pkg') } },
    { name: 'raft-is-pure', severity: 'error', from: { path: room('raft') },
      to: { pathNot: `${room('raft')}|${room('pkg')}|${room('pb')}` } },
    { name: 'raft-no-node', severity: 'error', from: { path: room('raft') }, to: { dependencyTypes: ['core'] } },
    // wal/ reaches the disk only through pkg/disk's Disk (platform/fs.ts nodeDisk, or the simulation's).
    { name: 'wal-no-node', severity: 'error', from: { path: room('wal') }, to: { dependencyTypes: ['core'] } },
    // The member, from the Ready loop down, reaches the outside only through what it is handed
    // (server/io.ts MemberIo: disk, store engine, transport, clock; production's come from platform/),
    // so the seeded simulation runs it whole (test/sim/member/).
    { name: 'member-rooms-no-node', severity: 'error',
      from: { path: `${room('server')}|${room('backend')}|${room('mvcc')}|${room('lease')}|${room('auth')}|${room('membership')}|${room('v2store')}|${room('codec')}|${room('wal')}|${room('raft')}` },
      to: { dependencyTypes: ['core'] } },
    { name: 'pkg-disk-and-path-no-node', severity: 'error', from: { path: '^src/pkg/(disk|path)\\.ts$' }, to: { dependencyTypes: ['core'] } },
    { name: 'codec-imports-pkg-and-pb-only', severity: 'error', from: { path: room('codec') },
      to: { path: '^src/', pathNot: `${room('codec')}|${room('pkg')}|${room('pb')}` } },
    { name: 'v2store-imports-pkg-only', severity: 'error', from: { path: room('v2store') },
      to: { path: '^src/', pathNot: `${room('v2store')}|${room('pkg')}` } },
    { name: 'bbolt-imports-pkg-only', severity: 'error', from: { path: room('bbolt') },
      to: { path: '^src/', pathNot: `${room('bbolt')}|${room('pkg')}` } },
    { name: 'bbolt-no-node', severity: 'error', from: { path: room('bbolt') }, to: { dependencyTypes: ['core'] } },
    { name: 'nothing-imports-api', severity: 'error', from: { pathNot: `${room('api')}|${room('cli')}` }, to: { path: room('api') } },
    { name: 'nothing-imports-cli', severity: 'error', from: { pathNot: room('cli') }, to: { path: room('cli') } },
    { name: 'only-server-and-up-import-server', severity: 'error',
      from: { path: '^src/', pathNot: `${room('server')}|${room('api')}|${room('cli')}` }, to: { path: room('server') } },
    { name: 'api-imports-server-facade-only', severity: 'error', from: { path: room('api') },
      to: { path: room('server'), pathNot: '^src/server/facade\\.ts$' } },
    { name: 'storage-rooms-below-server', severity: 'error',
      from: { path: `${room('backend')}|${room('mvcc')}|${room('lease')}|${room('auth')}|${room('membership')}|${room('wal')}` },
      to: { path: `${room('transport')}|${room('v2store')}` } },
    // src/pb is generated from proto/, whose messages nest recursively (TxnRequest ⊃ RequestOp ⊃ TxnRequest).
    { name: 'no-circular', severity: 'error', from: { pathNot: room('pb') }, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
