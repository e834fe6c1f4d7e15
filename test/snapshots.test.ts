// The listings kept for later pages: how long, how many, and which question a page belongs to.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSnapshots, questionKey } from '../src/tools/listing-cache.js';

describe('kept listings', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serve later pages only while young', () => {
    let t = 1000;
    const kept = createSnapshots<string>(30_000, 4, 1000, () => t);
    kept.set('a', 'listing', 1);
    t += 29_999;
    expect(kept.get('a')).toBe('listing');
    t += 1;
    expect(kept.get('a')).toBeUndefined();
  });

  it('keep at most a few, dropping the oldest; setting a question again makes it the newest', () => {
    const kept = createSnapshots<number>(30_000, 2);
    kept.set('a', 1, 1);
    kept.set('b', 2, 1);
    kept.set('a', 3, 1);
    kept.set('c', 4, 1);
    expect(kept.get('b')).toBeUndefined();
    expect(kept.get('a')).toBe(3);
    expect(kept.get('c')).toBe(4);
  });

  it('keep a bounded number of rows in all: the oldest go first, and a listing over the bound is not kept', () => {
    const kept = createSnapshots<string>(30_000, 4, 100);
    expect(kept.set('a', 'a', 60)).toBe(true);
    expect(kept.set('b', 'b', 30)).toBe(true);
    expect(kept.set('c', 'c', 20)).toBe(true);
    expect(kept.get('a')).toBeUndefined();
    expect(kept.size).toBe(2);
    expect(kept.set('huge', 'huge', 101)).toBe(false);
    expect(kept.get('huge')).toBeUndefined();
    expect(kept.get('b')).toBe('b');
    expect(kept.get('c')).toBe('c');
    // Replacing a listing counts only its new rows.
    expect(kept.set('b', 'b2', 80)).toBe(true);
    expect(kept.get('c')).toBe('c');
    expect(kept.set('d', 'd', 1)).toBe(true);
    expect(kept.get('c')).toBeUndefined();
    expect(kept.get('b')).toBe('b2');
  });

  it('let go of expired listings on their own, so their memory is freed without another call', () => {
    vi.useFakeTimers();
    const kept = createSnapshots<object>(30_000, 4);
    kept.set('a', { rows: ['many'] }, 1);
    vi.advanceTimersByTime(10_000);
    kept.set('b', {}, 1);
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
