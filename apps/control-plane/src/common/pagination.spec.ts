import { describe, expect, it } from 'vitest';
import { toPage } from './pagination';

describe(toPage.name, () => {
  it('uses the extra row only to say there is more', () => {
    const rows = [{ id: 'c' }, { id: 'b' }, { id: 'a' }];
    expect(toPage(rows, 2, (r) => r.id)).toEqual({ object: 'list', data: ['c', 'b'], has_more: true, last_id: 'b' });
    expect(toPage(rows, 3, (r) => r.id)).toEqual({ object: 'list', data: ['c', 'b', 'a'], has_more: false, last_id: 'a' });
    expect(toPage([], 3, (r: { id: string }) => r.id)).toEqual({ object: 'list', data: [], has_more: false, last_id: null });
  });
});
