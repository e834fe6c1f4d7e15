// Output shaping and the sanitiser, on small inputs written for the tests.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CompiledParam, OutputSpec } from '../src/manifest/compile.js';
import { cleanValue, sanitizeText } from '../src/sanitize.js';
import { cutJsonString, formatBytes, formatDuration, keepListing, listRows, pageOf, shapeList, shapeRecord } from '../src/tools/shape.js';

function spec(over: Partial<OutputSpec>): OutputSpec {
  return { shape: 'list', types: {}, derive: {}, kinds: {}, page: 50, paged: true, errors: [], ...over };
}
const filter = (arg: string, match: CompiledParam['match'] = 'equals', field = arg): CompiledParam => ({ arg, in: 'filter', upstream: arg, boolean: false, field, match });

describe('normalisation', () => {
  it('turns Proxmox loose values into what they mean', () => {
    const rows = [{ vmid: '106', template: '', tags: 'prod;web ,db', cpu: 0.125, mem: 1073741824, uptime: 90061, onboot: 1 }];
    const out = shapeList(rows, spec({ types: { vmid: 'int', template: 'bool', tags: 'tags', cpu: 'percent', mem: 'bytes', uptime: 'duration', onboot: 'bool' } }), [], {}, 10_000).structured;
    // A percentage is a number named *_pct, like every percentage in every answer.
    expect(out.items).toEqual([{ vmid: 106, template: false, tags: ['prod', 'web', 'db'], cpu_pct: 12.5, mem: '1.00 GiB', uptime: '1d 1h', onboot: true }]);
  });

  it('formats sizes and durations readably', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(5 * 1024 ** 4)).toBe('5.00 TiB');
    expect(formatDuration(59)).toBe('59s');
    expect(formatDuration(3700)).toBe('1h 1m');
    expect(formatDuration(86400 * 3 + 7200)).toBe('3d 2h');
  });

  it('sorts numerically before making values readable', () => {
    const rows = [{ id: 'a', mem: 2048 }, { id: 'b', mem: 1024 * 1024 }, { id: 'c', mem: 10 }];
    const out = shapeList(rows, spec({ types: { mem: 'bytes' } }), [], { sort: 'mem', order: 'desc' }, 10_000).structured;
    expect((out.items as { id: string }[]).map((r) => r.id)).toEqual(['b', 'a', 'c']);
  });
});

describe('typed form for filtering and sorting', () => {
  it('sorts by a derived field, from inputs old releases send as strings', () => {
    const rows = [
      { id: 'a', disk: '900', maxdisk: '1000' },
      { id: 'b', disk: 50, maxdisk: 1000 },
      { id: 'c', disk: '300', maxdisk: 1000 },
    ];
    const s = spec({ types: { disk: 'bytes', maxdisk: 'bytes' }, derive: { used_pct: { percent: ['disk', 'maxdisk'] } } });
    const out = shapeList(rows, s, [], { sort: 'used_pct', order: 'desc' }, 10_000).structured;
    expect(out.items).toEqual([
      { id: 'a', disk: '900 B', maxdisk: '1000 B', used_pct: 90 },
      { id: 'c', disk: '300 B', maxdisk: '1000 B', used_pct: 30 },
      { id: 'b', disk: '50 B', maxdisk: '1000 B', used_pct: 5 },
    ]);
  });

  it('normalises a field used for sorting once, not again on the page', () => {
    const long = `n${'x'.repeat(600)}`;
    const rows = [{ id: 'b', name: long }, { id: 'a', name: 'a' }];
    const out = shapeList(rows, spec({ types: { name: 'text' } }), [], { sort: 'name' }, 100_000).structured;
    const names = (out.items as { name: string }[]).map((r) => r.name);
    expect(names[0]).toBe('a');
    expect(names[1]).toBe(`${long.slice(0, 500)}… [101 more characters cut]`);
  });
});

describe('lists', () => {
  // The shapers take their input over, as the runtime hands them an answer parsed for the call: a fresh copy each time.
  const fresh = (): Record<string, unknown>[] => Array.from({ length: 120 }, (_, i) => ({ vmid: 100 + i, name: `vm-${i}`, node: `pve${(i % 3) + 1}`, tags: i % 2 ? 'even' : 'odd;prod', type: i % 4 ? 'qemu' : 'lxc' }));

  it('pages with total and next_offset', () => {
    const s = spec({ key: 'vmid' });
    const first = shapeList(fresh(), s, [], { limit: 50 }, 100_000).structured;
    expect(first).toMatchObject({ total: 120, offset: 0, limit: 50, next_offset: 50 });
    const last = shapeList(fresh(), s, [], { limit: 50, offset: 100 }, 100_000).structured;
    expect((last.items as unknown[]).length).toBe(20);
    expect(last).not.toHaveProperty('next_offset');
  });

  it('cuts pages from a kept listing without changing it, so every page of it reads the same', () => {
    const s = spec({ key: 'vmid', types: { tags: 'tags', vmid: 'int', 'nested.used': 'bytes' }, derive: {} });
    const rows = fresh().map((r) => ({ ...r, vmid: String(r.vmid), nested: { used: 2048 } }));
    const kept = keepListing(listRows(rows, s, [], {}));
    const before = structuredClone(kept.rows);
    const first = pageOf(kept, s, { limit: 10 }, 100_000).structured;
    expect((first.items as { tags: string[]; nested: object }[])[0]).toMatchObject({ tags: ['odd', 'prod'], nested: { used: '2.00 KiB' } });
    const a = pageOf(kept, s, { offset: 50, limit: 10 }, 100_000).structured;
    const b = pageOf(kept, s, { offset: 50, limit: 10 }, 100_000).structured;
    expect(a).toEqual(b);
    expect(a).toMatchObject({ total: 120, offset: 50, limit: 10, next_offset: 60 });
    expect((a.items as { vmid: number; tags: string[] }[])[0]).toMatchObject({ vmid: 150, tags: ['odd', 'prod'] });
    expect(pageOf(kept, s, { limit: 10 }, 100_000).structured).toEqual(first);
    expect(kept.rows).toEqual(before);
    // A listing made for one call alone is shaped in place: nothing is copied.
    const once = listRows(fresh(), s, [], {});
    pageOf(once, s, { limit: 1 }, 100_000);
    expect(once.rows[0]?.tags).toEqual(['odd', 'prod']);
  });

  it('filters by equality, list membership and substring', () => {
    const s = spec({ types: { tags: 'tags' } });
    const byNode = shapeList(fresh(), s, [filter('node')], { node: 'pve2', limit: 500 }, 100_000).structured;
    expect((byNode.items as { node: string }[]).every((r) => r.node === 'pve2')).toBe(true);
    expect(byNode.total).toBe(40);
    const byTag = shapeList(fresh(), s, [filter('tag', 'contains', 'tags')], { tag: 'PROD', limit: 500 }, 100_000).structured;
    expect(byTag.total).toBe(60);
    const byName = shapeList(fresh(), s, [filter('name', 'substring')], { name: 'VM-11', limit: 500 }, 100_000).structured;
    expect((byName.items as { name: string }[]).map((r) => r.name)).toEqual(['vm-11', 'vm-110', 'vm-111', 'vm-112', 'vm-113', 'vm-114', 'vm-115', 'vm-116', 'vm-117', 'vm-118', 'vm-119']);
  });

  it('keeps only the declared rows and collects extras from all rows', () => {
    const mixed = [{ type: 'node', node: 'pve3', status: 'offline' }, { type: 'qemu', vmid: 1 }, { type: 'storage', storage: 'x' }];
    const out = shapeList(mixed, spec({ rows: { type: ['qemu'] }, extras: { offline_nodes: { where: { type: ['node'], status: ['offline'] }, pluck: 'node' } } }), [], {}, 10_000).structured;
    expect(out.items).toEqual([{ type: 'qemu', vmid: 1 }]);
    expect(out.offline_nodes).toEqual(['pve3']);
  });

  it('returns the default fields, or every field on request', () => {
    const s = spec({ fields: ['vmid'] });
    expect((shapeList(fresh(), s, [], { limit: 1 }, 10_000).structured.items as object[])[0]).toEqual({ vmid: 100 });
    expect(Object.keys((shapeList(fresh(), s, [], { limit: 1, fields: ['*'] }, 10_000).structured.items as object[])[0] ?? {})).toHaveLength(5);
  });

  it('cuts at a record boundary within the budget and says how to get the rest', () => {
    const out = shapeList(fresh(), spec({}), [], { limit: 500 }, 2000).structured;
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThanOrEqual(2000);
    const items = out.items as { vmid: number }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThan(120);
    expect(out.truncated).toMatchObject({ omitted: 120 - items.length });
    expect(out.next_offset).toBe(items.length);
  });
});

describe('records', () => {
  it('normalises nested paths and drops the largest fields over budget', () => {
    const out = shapeRecord({ memory: { total: 2048 }, big: 'x'.repeat(5000), small: 1 }, spec({ shape: 'record', types: { 'memory.total': 'bytes' } }), {}, 1500).structured;
    expect(out.memory).toEqual({ total: '2.00 KiB' });
    expect(out).not.toHaveProperty('big');
    expect(out.truncated).toMatchObject({ omitted_fields: ['big'] });
  });
});

/**
 * Counts the characters JSON.stringify produces while `fn` runs, and stops it once they pass
 * `limit`: work that grows with the answer squared is caught at once, without waiting for it.
 */
function serialisedWhile<T>(limit: number, fn: () => T): { result: T; chars: number } {
  const original = JSON.stringify.bind(JSON);
  let chars = 0;
  vi.spyOn(JSON, 'stringify').mockImplementation(((value: unknown, replacer?: never, space?: never) => {
    const text = original(value, replacer, space) as string | undefined;
    chars += text?.length ?? 0;
    if (chars > limit) throw new Error(`serialised ${chars} characters, more than ${limit}`);
    return text;
  }) as typeof JSON.stringify);
  try {
    return { result: fn(), chars };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('answers cut to the budget, in work proportional to their size', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const record = (keys: number): Record<string, unknown> => Object.fromEntries(Array.from({ length: keys }, (_, i) => [`key${i}`, `value-${i}-xxxx`]));
  const recordSpec = spec({ shape: 'record' });

  it('trims a record of 50,000 small fields serialising it a bounded number of times, and says what went', () => {
    const data = record(50_000);
    const size = JSON.stringify(data).length;
    const { result } = serialisedWhile(size * 8, () => shapeRecord(data, recordSpec, {}, 24_000));
    expect(Buffer.byteLength(result.text)).toBeLessThanOrEqual(24_000);
    const out = result.structured as { truncated: { omitted_fields: string[]; omitted_more: number; hint: string } };
    const kept = Object.keys(out).filter((k) => k !== 'truncated');
    expect(kept.length).toBeGreaterThan(100);
    // Every field is either shown or accounted for; the note's own list stays short.
    expect(out.truncated.omitted_fields.length).toBeLessThanOrEqual(50);
    expect(kept.length + out.truncated.omitted_fields.length + out.truncated.omitted_more).toBe(50_000);
    expect(out.truncated.hint).toMatch(/fields=/);
  });

  it('leaves out a field with more values than the budget has bytes without serialising it', () => {
    const data = { huge: Array.from({ length: 200_000 }, (_, i) => i), name: 'vm-1', small: { a: 1 } };
    const { result } = serialisedWhile(100_000, () => shapeRecord(data, recordSpec, {}, 24_000));
    expect(result.structured).toMatchObject({ name: 'vm-1', small: { a: 1 }, truncated: { omitted_fields: ['huge'] } });
  });

  it('keeps a value answer cut for the budget within it, whatever characters it holds', () => {
    for (const unit of ['"', '\\', 'é', '€', '😀', '\t', 'a']) {
      // Strings are capped one by one first: many of them make an answer too large.
      const value = Array.from({ length: 100 }, () => unit.repeat(150));
      const out = shapeRecord(value, spec({ shape: 'value' }), {}, 4_000);
      expect(Buffer.byteLength(out.text), unit).toBeLessThanOrEqual(4_000);
      expect(out.structured.truncated, unit).toBeDefined();
      // With the u flag this class matches only a surrogate that is not half of a pair.
      expect(out.structured.value as string, unit).not.toMatch(/[\uD800-\uDFFF]/u);
    }
  });

  it('measures the cut by bytes of JSON, never splitting a character', () => {
    expect(cutJsonString('abc', 4)).toBe('ab');
    expect(cutJsonString('a"b', 5)).toBe('a"');
    expect(cutJsonString('😀😀', 9)).toBe('😀');
    expect(cutJsonString('😀😀', 5)).toBe('');
  });
});

describe('sanitiser', () => {
  it('removes control, bidirectional and invisible characters', () => {
    expect(sanitizeText('web\u202Egnp.exe\u200B\u0000\u001b[31m')).toBe('webgnp.exe[31m');
    expect(sanitizeText('a\u2066b\u2069c\uFEFFd\u{E0041}')).toBe('abcd');
    expect(sanitizeText('line one\nline\ttwo')).toBe('line one\nline\ttwo');
  });

  it('caps length and says so', () => {
    expect(sanitizeText('x'.repeat(30), 10)).toBe('xxxxxxxxxx… [20 more characters cut]');
  });

  it('redacts secret-named fields at any depth and secrets inside text', () => {
    const out = cleanValue({ net0: 'virtio', cipassword: '**********', nested: [{ password: 'hunter2', token: 'abc' }], description: 'root password=Winter2026! do not share', __proto__: { polluted: true } });
    const text = JSON.stringify(out);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('Winter2026!');
    expect(out).toMatchObject({ net0: 'virtio', cipassword: '[redacted]', nested: [{ password: '[redacted]', token: '[redacted]' }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('answers a model reads right the first time', () => {
  const guests = (): Record<string, unknown>[] => [
    // Key order as Proxmox sends it differs from row to row; the offline node's guests have no metrics.
    { status: 'unknown', vmid: 300, node: 'pve3', name: 'off-a', type: 'qemu', template: 0 },
    { mem: 4096, vmid: 101, name: 'db', node: 'pve1', type: 'qemu', status: 'running', cpu: 0.5, maxmem: 8192, template: 0 },
    { name: 'web', vmid: 100, status: 'running', mem: 4096, type: 'lxc', node: 'pve1', cpu: 0.25, maxmem: 8192, template: 0 },
    { vmid: 102, type: 'qemu', name: 'tpl', node: 'pve2', status: 'stopped', mem: 0, cpu: 0, maxmem: 2048, template: 1 },
    { node: 'pve3', vmid: 301, type: 'lxc', name: 'off-b', status: 'unknown', template: '' },
  ];
  const guestSpec = spec({
    key: 'vmid',
    order: ['vmid', 'name', 'node', 'type', 'status'],
    types: { vmid: 'int', cpu: 'percent', mem: 'bytes', maxmem: 'bytes', template: 'bool' },
    kinds: { vmid: 'integer', name: 'string', cpu_pct: 'number', template: 'boolean' },
    keep_if: [
      { where: { status: ['running'] }, fields: ['cpu', 'mem'] },
      { where: { template: [true] }, fields: ['template'] },
    ],
    sort_by: { cpu_pct: 'cpu' },
  });

  it('puts rows without the sort key last in both directions, ties in key order', () => {
    const desc = shapeList(guests(), guestSpec, [], { sort: 'mem', order: 'desc' }, 10_000).structured.items as Record<string, unknown>[];
    expect(desc.map((g) => g.vmid)).toEqual([100, 101, 102, 300, 301]);
    const asc = shapeList(guests(), guestSpec, [], { sort: 'mem', order: 'asc' }, 10_000).structured.items as Record<string, unknown>[];
    expect(asc.map((g) => g.vmid)).toEqual([102, 100, 101, 300, 301]);
    const byCpu = shapeList(guests(), guestSpec, [], { sort: 'cpu_pct', order: 'desc' }, 10_000).structured.items as Record<string, unknown>[];
    expect(byCpu.map((g) => g.vmid)).toEqual([101, 100, 102, 300, 301]);
  });

  it('gives every row one field order, identity first, and leaves out what does not apply', () => {
    const items = shapeList(guests(), guestSpec, [], {}, 10_000).structured.items as Record<string, unknown>[];
    expect(items.map((g) => Object.keys(g))).toEqual([
      ['vmid', 'name', 'node', 'type', 'status', 'cpu_pct', 'mem', 'maxmem'],
      ['vmid', 'name', 'node', 'type', 'status', 'cpu_pct', 'mem', 'maxmem'],
      ['vmid', 'name', 'node', 'type', 'status', 'maxmem', 'template'],
      ['vmid', 'name', 'node', 'type', 'status'],
      ['vmid', 'name', 'node', 'type', 'status'],
    ]);
    expect(items[2]).toMatchObject({ vmid: 102, template: true });
  });

  it('drops nulls and trailing newlines, and a value of another type than the schema states', () => {
    const rows = [{ iface: 'eno2', comments: 'spare uplink\n', exists: null, active: 1, mtu: '9000', nested: { a: null, b: 'x\n' } }];
    const s = spec({ types: { active: 'bool', mtu: 'int' }, kinds: { active: 'boolean', mtu: 'integer' } });
    expect(shapeList(rows, s, [], {}, 10_000).structured.items).toEqual([{ iface: 'eno2', active: true, mtu: 9000, comments: 'spare uplink', nested: { b: 'x' } }]);
    const odd = [{ iface: 'x', mtu: 'auto' }];
    expect(shapeList(odd, s, [], {}, 10_000).structured.items).toEqual([{ iface: 'x' }]);
  });

  it('leaves hidden parts out unless asked for by name or with ["*"]', () => {
    const status = (): Record<string, unknown> => ({ status: 'running', vmid: 100, blockstat: { scsi0: { rd_bytes: 1 } }, cpuinfo: { model: 'EPYC', flags: 'fpu vme' } });
    const s = spec({ shape: 'record', order: ['vmid', 'status'], hidden: ['blockstat', 'cpuinfo.flags'] });
    expect(shapeRecord(status(), s, {}, 10_000).structured).toEqual({ vmid: 100, status: 'running', cpuinfo: { model: 'EPYC' } });
    expect(shapeRecord(status(), s, { fields: ['blockstat'] }, 10_000).structured).toEqual({ blockstat: { scsi0: { rd_bytes: 1 } } });
    expect(shapeRecord(status(), s, { fields: ['cpuinfo.flags'] }, 10_000).structured).toEqual({ cpuinfo: { model: 'EPYC', flags: 'fpu vme' } });
    expect(Object.keys(shapeRecord(status(), s, { fields: ['*'] }, 10_000).structured)).toEqual(['vmid', 'status', 'blockstat', 'cpuinfo']);
  });

  it('without a limit, pages as many rows as fit the budget and says in one line how many remain', () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ vmid: 100 + i, name: `guest-${String(i).padStart(3, '0')}`, node: 'pve1' }));
    const s = spec({ key: 'vmid', page: 500 });
    const page = shapeList(rows, s, [], {}, 4000);
    const shown = (page.structured.items as unknown[]).length;
    expect(shown).toBeGreaterThan(50);
    expect(page.structured).not.toHaveProperty('truncated');
    expect(page.structured.next_offset).toBe(shown);
    expect(page.text.split('\n')[1]).toBe(`${300 - shown} more: call again with offset=${shown}`);
    const all = shapeList(rows.slice(0, 58), s, [], {}, 24_000);
    expect((all.structured.items as unknown[]).length).toBe(58);
    expect(all.text).not.toContain('more:');
  });

  it('filters failures: rows whose field is set and differs from the value', () => {
    const tasks = [{ upid: 'a', status: 'OK' }, { upid: 'b', status: 'job errors' }, { upid: 'c' }, { upid: 'd', status: 'unexpected status' }];
    const failed: CompiledParam = { arg: 'errors', in: 'filter', upstream: 'errors', boolean: false, field: 'status', match: 'differs', value: 'OK' };
    const items = (a: boolean): unknown[] => (shapeList(tasks.map((t) => ({ ...t })), spec({}), [failed], { errors: a }, 10_000).structured.items as Record<string, unknown>[]).map((t) => t.upid);
    expect(items(true)).toEqual(['b', 'd']);
    expect(items(false)).toEqual(['a']);
  });
});
