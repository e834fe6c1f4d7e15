// The listings kept for later pages: how long, how many, and which question a page belongs to.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSnapshots, questionKey } from '../src/snapshots.js';

describe('kept listings', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serve later pages only while young', () => {
    let t = 1000;
    const kept = createSnapshots<string>(30_000, 4, () => t);
    kept.set('a', 'listing');
    t += 29_999;
    expect(kept.get('a')).toBe('listing');
    t += 1;
    expect(kept.get('a')).toBeUndefined();
  });

  it('keep at most a few, dropping the oldest; setting a question again makes it the newest', () => {
    const kept = createSnapshots<number>(30_000, 2);
    kept.set('a', 1);
    kept.set('b', 2);
    kept.set('a', 3);
    kept.set('c', 4);
    expect(kept.get('b')).toBeUndefined();
    expect(kept.get('a')).toBe(3);
    expect(kept.get('c')).toBe(4);
  });

  it('let go of expired listings on their own, so their memory is freed without another call', () => {
    vi.useFakeTimers();
    const kept = createSnapshots<object>(30_000, 4);
    kept.set('a', { rows: ['many'] });
    vi.advanceTimersByTime(10_000);
    kept.set('b', {});
    expect(kept.size).toBe(2);
    vi.advanceTimersByTime(20_000);
    expect(kept.size).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(kept.size).toBe(0);
  });
});

describe('the question a page belongs to', () => {
  it('ignores where the page starts, its size and its fields, and the order arguments came in', () => {
    const a = questionKey('get_vms', { node: 'pve1', sort: 'name', offset: 50, limit: 10, fields: ['vmid'] });
    const b = questionKey('get_vms', { sort: 'name', node: 'pve1' });
    expect(a).toBe(b);
  });

  it('differs with the tool, a filter, the sort or the order', () => {
    const base = questionKey('get_vms', { node: 'pve1' });
    expect(questionKey('get_cluster_resources', { node: 'pve1' })).not.toBe(base);
    expect(questionKey('get_vms', { node: 'pve2' })).not.toBe(base);
    expect(questionKey('get_vms', { node: 'pve1', sort: 'mem' })).not.toBe(base);
    expect(questionKey('get_vms', { node: 'pve1', order: 'desc' })).not.toBe(base);
    expect(questionKey('get_vms', {})).not.toBe(base);
  });
});
