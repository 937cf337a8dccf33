import { describe, expect, it } from 'vitest';
import { V2Error, V2Store } from '../../../src/v2store/index.js';

describe('v2 store stats, as etcd 3.4.23 counts them', () => {
  it('counts a refused delete of the root (107) as deleteSuccess', () => {
    const s = new V2Store();
    expect(() => s.delete('/', { recursive: true }, 0)).toThrow(V2Error);
    expect(() => s.delete('/', { recursive: true }, 0)).toThrow(/Root is read only/);
    expect(s.statsJson()).toMatchObject({ deleteSuccess: 2, deleteFail: 0 });
    expect(() => s.delete('/missing', {}, 0)).toThrow(/Key not found/);
    expect(s.statsJson()).toMatchObject({ deleteSuccess: 2, deleteFail: 1 });
  });
});
