// An in-process member on a temp data dir, for server tests (no sockets).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { ServerConfig } from '../../../src/server/config.js';
import { EtcdServer } from '../../../src/server/server.js';
import { ServerFacade } from '../../../src/server/v3-facade.js';

export function testConfig(dataDir: string, over: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name: 'default',
    dataDir,
    walDir: '',
    snapshotCount: 100_000,
    snapshotCatchUpEntries: 5000,
    heartbeatIntervalMs: 10,
    electionTimeoutMs: 100,
    initialCluster: new Map([['default', ['http://localhost:2380']]]),
    initialClusterState: 'new',
    initialClusterToken: 'etcd-cluster',
    initialAdvertisePeerUrls: ['http://localhost:2380'],
    advertiseClientUrls: ['http://localhost:2379'],
    preVote: true,
    quotaBackendBytes: 0,
    maxTxnOps: 128,
    maxRequestBytes: 1.5 * 1024 * 1024,
    requestTimeoutMs: 5000,
    autoCompactionMode: 'periodic',
    autoCompactionRetention: 0,
    backendBatchIntervalMs: 0,
    backendBatchLimit: 0,
    logger: pino({ level: 'silent' }),
    ...over,
  };
}

export interface TestMember {
  server: EtcdServer;
  facade: ServerFacade;
  dataDir: string;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'etcd-server-test-'));
}

export async function startMember(dataDir: string, over: Partial<ServerConfig> = {}): Promise<TestMember> {
  const server = await EtcdServer.start(testConfig(dataDir, over));
  const facade = new ServerFacade(server);
  const deadline = Date.now() + 10_000;
  await server.ready();
  while (!server.isLeader() || server.clusterVersion === '') {
    if (Date.now() > deadline) throw new Error('member did not become leader');
    await new Promise((r) => setTimeout(r, 5));
  }
  return { server, facade, dataDir };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
