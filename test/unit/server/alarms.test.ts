// AlarmStore: raised alarms are listed by member and type, persist in the backend, and `has` follows them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Backend } from '../../../src/backend/index.js';
import { AlarmStore } from '../../../src/server/alarms.js';

it('has / list follow activate and deactivate, and a reload sees the same alarms', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'alarms-'));
  try {
    const backend = await Backend.open(join(dir, 'db'));
    const alarms = new AlarmStore(backend);
    expect(alarms.has('NOSPACE')).toBe(false);
    expect(alarms.activate({ memberId: 7n, alarm: 'CORRUPT' })).toBe(true);
    expect(alarms.has('NOSPACE')).toBe(false);
    expect(alarms.has('CORRUPT')).toBe(true);
    expect(alarms.activate({ memberId: 9n, alarm: 'NOSPACE' })).toBe(true);
    expect(alarms.activate({ memberId: 9n, alarm: 'NOSPACE' })).toBe(false);
    expect(alarms.has('NOSPACE')).toBe(true);
    expect(alarms.list(9n)).toEqual([{ memberId: 9n, alarm: 'NOSPACE' }]);
    await backend.commit();
    const reloaded = new AlarmStore(backend);
    await reloaded.load();
    expect(reloaded.list().length).toBe(2);
    expect(alarms.deactivate({ memberId: 9n, alarm: 'NOSPACE' })).toBe(true);
    expect(alarms.has('NOSPACE')).toBe(false);
    expect(alarms.has('CORRUPT')).toBe(true);
    await backend.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
