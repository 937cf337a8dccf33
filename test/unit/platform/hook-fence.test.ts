// The fence around dependencies' private hooks (platform/hook-fence.ts, grpc-hooks.ts, level-hooks.ts):
// the environment switch and an untested version both keep a hook off, the public path is taken,
// the fallback is counted on /metrics and warned of once; and the installed, pinned versions are
// the tested ones with every hook present (so a dependency upgrade fails here first).
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/pkg/metrics.js';
import {
  Fence, HOOK_FALLBACK_MESSAGE, NO_PRIVATE_HOOKS_ENV, hookFallbackSeries, hooksSwitchedOff, installedVersion, reportHooksTo,
} from '../../../src/platform/hook-fence.js';
import { GRPC_JS_TESTED, editHttp2ServerOptions, grpcJsFence, wrapHttp2ServerFactory } from '../../../src/platform/grpc-hooks.js';
import { CLASSIC_LEVEL_TESTED, batchHookPresent, classicLevelFence, rawBatch } from '../../../src/platform/level-hooks.js';
import type { Logger } from '../../../src/pkg/logger.js';

const OFF = { [NO_PRIVATE_HOOKS_ENV]: '1' };
const ON = {};

/** A logger that records (level, fields, message); the fence takes a child of it. */
function recordingLogger(): { logger: Logger; lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  const logger = { warn: at('warn'), info: at('info'), child: () => logger } as unknown as Logger;
  return { logger, lines };
}

/** A stand-in for a ClassicLevel: which of its batch paths was called. */
function fakeDb(withPrivate = true): { db: never; calls: string[] } {
  const calls: string[] = [];
  const db = {
    status: 'open',
    batch: async () => void calls.push('batch'),
    ...(withPrivate ? { _batch: async () => void calls.push('_batch') } : {}),
  };
  return { db: db as never, calls };
}

function seriesOf(dependency: string, hook: string): number | undefined {
  return hookFallbackSeries().find(([l]) => l.dependency === dependency && l.hook === hook)?.[1];
}

describe('the environment switch', () => {
  it('reads 1/true/yes as off and unset/0/false as on', () => {
    expect(hooksSwitchedOff({ [NO_PRIVATE_HOOKS_ENV]: '1' })).toBe(true);
    expect(hooksSwitchedOff({ [NO_PRIVATE_HOOKS_ENV]: 'true' })).toBe(true);
    expect(hooksSwitchedOff({})).toBe(false);
    expect(hooksSwitchedOff({ [NO_PRIVATE_HOOKS_ENV]: '0' })).toBe(false);
    expect(hooksSwitchedOff({ [NO_PRIVATE_HOOKS_ENV]: 'false' })).toBe(false);
  });

  it('keeps classic-level\'s _batch off: the public batch() is used and the fallback counted', async () => {
    const { batch } = classicLevelFence(CLASSIC_LEVEL_TESTED[0], OFF);
    const { db, calls } = fakeDb();
    await rawBatch(db, [], true, batch);
    await rawBatch(db, [], true, batch);
    expect(calls).toEqual(['batch', 'batch']);
    expect(batch.fallbacks).toBe(2);
    expect(batch.fence.off).toBe('switched off');
  });

  it('keeps every grpc-js hook off: nothing is wrapped, and each is counted', () => {
    const h = grpcJsFence(GRPC_JS_TESTED[0], OFF);
    const server = new grpc.Server();
    const before = (server as unknown as { createHttp2Server: unknown }).createHttp2Server;
    expect(wrapHttp2ServerFactory(server, (create) => create, h)).toBe(false);
    expect((server as unknown as { createHttp2Server: unknown }).createHttp2Server).toBe(before);
    expect(editHttp2ServerOptions(server, () => expect.unreachable(), h)).toBe(false);
    expect([h.createHttp2Server.fallbacks, h.commonServerOptions.fallbacks]).toEqual([1, 1]);
  });
});

describe('an untested version', () => {
  it('keeps the hook off, takes the public path, counts it on /metrics and warns once', async () => {
    const { logger, lines } = recordingLogger();
    reportHooksTo(logger); // warnings held since the fence was made are logged now
    const { batch } = classicLevelFence('9.9.9', ON);
    expect(batch.fence.off).toBe('untested version');
    const { db, calls } = fakeDb();
    for (let i = 0; i < 3; i++) await rawBatch(db, [], false, batch);
    expect(calls).toEqual(['batch', 'batch', 'batch']);
    const warned = lines.filter((l) => l.fields.dependency === 'classic-level' && l.fields.version === '9.9.9');
    expect(warned).toEqual([{
      level: 'warn', msg: HOOK_FALLBACK_MESSAGE,
      fields: { dependency: 'classic-level', hook: '_batch', reason: 'untested version', version: '9.9.9', tested: CLASSIC_LEVEL_TESTED },
    }]);
    const m = createMetrics();
    m.sample('etcd_ts_fenced_hook_fallbacks_total', hookFallbackSeries);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE etcd_ts_fenced_hook_fallbacks_total counter');
    // other tests' classic-level fences count under the same series (one count per process)
    const line = /^etcd_ts_fenced_hook_fallbacks_total\{dependency="classic-level",hook="_batch"\} (\d+)$/m.exec(text);
    expect(Number(line?.[1])).toBe(seriesOf('classic-level', '_batch'));
    expect(Number(line?.[1])).toBeGreaterThanOrEqual(3);
  });

  it('keeps the grpc-js hooks off too', () => {
    const h = grpcJsFence('1.99.0', ON);
    expect(h.fence.off).toBe('untested version');
    expect(wrapHttp2ServerFactory(new grpc.Server(), (create) => create, h)).toBe(false);
    expect(h.createHttp2Server.fallbacks).toBe(1);
  });
});

describe('a missing hook', () => {
  it('is counted and warned of once, and the public path is taken', async () => {
    const { logger, lines } = recordingLogger();
    reportHooksTo(logger);
    const { batch } = classicLevelFence(CLASSIC_LEVEL_TESTED[0], ON);
    expect(batch.allowed).toBe(true);
    const { db, calls } = fakeDb(false);
    await rawBatch(db, [], true, batch);
    await rawBatch(db, [], true, batch);
    expect(calls).toEqual(['batch', 'batch']);
    expect(batch.fallbacks).toBe(2);
    expect(lines.filter((l) => l.fields.reason === 'missing').map((l) => l.level)).toEqual(['warn']);
  });

  it('a grpc-js Server without the private factory is left alone', () => {
    const h = grpcJsFence(GRPC_JS_TESTED[0], ON);
    const server = { commonServerOptions: undefined } as unknown as grpc.Server;
    expect(wrapHttp2ServerFactory(server, (create) => create, h)).toBe(false);
    expect(editHttp2ServerOptions(server, () => undefined, h)).toBe(false);
    expect([h.createHttp2Server.fallbacks, h.commonServerOptions.fallbacks]).toEqual([1, 1]);
  });
});

describe('the installed dependencies (fails when one is upgraded without testing its hooks)', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };

  it('are pinned exactly, at a tested version, and installed at it', () => {
    for (const [name, tested] of [['@grpc/grpc-js', GRPC_JS_TESTED], ['classic-level', CLASSIC_LEVEL_TESTED]] as const) {
      expect(pkg.dependencies[name], name).toMatch(/^\d+\.\d+\.\d+$/);
      expect(tested, name).toContain(pkg.dependencies[name]);
      expect(installedVersion(name), name).toBe(pkg.dependencies[name]);
    }
    expect(pkg.dependencies.level).toMatch(/^\d+\.\d+\.\d+$/); // it brings classic-level
  });

  it('have every hook, and the fence allows them when not switched off', () => {
    expect(batchHookPresent()).toBe(true);
    const h = grpcJsFence(undefined, ON);
    const server = new grpc.Server();
    expect(editHttp2ServerOptions(server, (o) => (o.maxHeaderListPairs = 7), h)).toBe(true);
    let wrapped = false;
    expect(wrapHttp2ServerFactory(server, (create) => ((wrapped = true), create), h)).toBe(true);
    expect(wrapped).toBe(true);
    expect([h.createHttp2Server.fallbacks, h.commonServerOptions.fallbacks]).toEqual([0, 0]);
    expect(classicLevelFence(undefined, ON).batch.allowed).toBe(true);
  });

  it('a fence made with a version outside its list says so', () => {
    expect(new Fence('x', ['1.0.0'], undefined, ON).off).toBe('untested version');
    expect(new Fence('x', ['1.0.0'], '1.0.0', ON).off).toBeUndefined();
  });
});
