// Answers a model reads right the first time, as a host sees them over stdio: each case is a way
// answers used to mislead or cost a model (wrong order, unstable rows, mixed units, noise, extra
// calls, schemas that said nothing), checked against the fake Proxmox.
import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { ClusterIndex } from './fake-proxmox/data.js';
import { makeBigCluster, makeCluster } from './fake-proxmox/index.js';
import { call, type CallOutcome } from './support/mcp.js';
import { serverSuite } from './support/suite.js';

type Obj = Record<string, unknown>;

function items(r: CallOutcome): Obj[] {
  expect(r.isError, r.text).toBe(false);
  return r.structured?.items as Obj[];
}

function record(r: CallOutcome): Obj {
  expect(r.isError, r.text).toBe(false);
  return r.structured ?? {};
}

describe('on the demo cluster (pve3 offline)', () => {
  const suite = serverSuite();
  const run = (name: string, args: Obj = {}): Promise<CallOutcome> => call(suite.mcp.client, name, args);

  describe('order', () => {
    it('top memory users are guests that report memory, not the offline node\'s', async () => {
      const truth = new ClusterIndex(makeCluster()).resourceRows
        .filter((r) => r.kind === 'vm' && typeof r.row.mem === 'number')
        .map((r) => ({ vmid: Number(r.row.vmid), bytes: Number(r.row.mem) }))
        .sort((a, b) => b.bytes - a.bytes);
      const top = items(await run('get_vms', { sort: 'mem', order: 'desc', limit: 5 }));
      expect(top).toHaveLength(5);
      expect(top.every((g) => g.status === 'running' && typeof g.mem === 'string')).toBe(true);
      expect(top.some((g) => g.node === 'pve3')).toBe(false);
      expect(top.map((g) => g.vmid)).toEqual(truth.slice(0, 5).map((t) => t.vmid));
    });

    it('the offline node sorts last whichever the direction', async () => {
      for (const order of ['desc', 'asc']) {
        const nodes = items(await run('get_nodes', { sort: 'mem', order }));
        expect(nodes.at(-1)?.node, order).toBe('pve3');
      }
    });
  });

  describe('stable, lean rows', () => {
    it('every row of a page has its fields in one order, identity first', async () => {
      const rows = items(await run('get_vms'));
      const identity = ['vmid', 'name', 'node', 'type', 'status'];
      for (const g of rows) expect(Object.keys(g).slice(0, 5)).toEqual(identity);
      // No two rows put two fields in opposite orders.
      const before = new Set<string>();
      for (const g of rows) {
        const keys = Object.keys(g);
        keys.forEach((a, i) => {
          for (const b of keys.slice(i + 1)) {
            expect(before.has(`${b} ${a}`), `${a} before ${b}`).toBe(false);
            before.add(`${a} ${b}`);
          }
        });
      }
    });

    it('a stopped guest has no live metrics, and template shows only when true', async () => {
      const rows = items(await run('get_vms', { status: 'stopped' }));
      expect(rows.length).toBeGreaterThan(0);
      for (const g of rows) {
        expect(g).not.toHaveProperty('mem');
        expect(g).not.toHaveProperty('cpu_pct');
        expect(g).not.toHaveProperty('uptime');
      }
      expect(rows.find((g) => g.vmid === 103)?.template).toBe(true);
      expect(rows.filter((g) => g.vmid !== 103).every((g) => !('template' in g))).toBe(true);
    });
  });

  describe('one convention for units, names and types', () => {
    it('VM status: memory figures all formatted, no VM disk figure', async () => {
      const s = record(await run('get_vm_status', { node: 'pve1', vmid: 100 }));
      expect(s.freemem).toMatch(/iB$/);
      expect(s.mem).toMatch(/iB$/);
      expect(s).not.toHaveProperty('balloon');
      expect(s).not.toHaveProperty('disk');
      expect(typeof s.cpu_pct).toBe('number');
    });

    it('container status: swap formatted like maxswap', async () => {
      const s = record(await run('get_container_status', { node: 'pve1', vmid: 102 }));
      expect(s.swap).toBe('0 B');
      expect(s.maxswap).toBe('512 MiB');
    });

    it('tags are a list in every tool', async () => {
      const resources = items(await run('get_cluster_resources', { type: 'vm', fields: ['vmid', 'tags'] }));
      expect(resources.find((r) => r.vmid === 100)?.tags).toEqual(['prod', 'web']);
      expect(items(await run('get_vms', { vmid: 100 }))[0]?.tags).toEqual(['prod', 'web']);
    });

    it('node interfaces: no trailing newline, no null, flags as booleans, numbers as numbers', async () => {
      const rows = items(await run('get_node_network', { node: 'pve1' }));
      const vmbr0 = rows.find((r) => r.iface === 'vmbr0');
      expect(vmbr0).toMatchObject({ comments: 'management and guests', bridge_vlan_aware: true, mtu: 1500, active: true });
      expect(rows.find((r) => r.iface === 'vmbr0.20')).not.toHaveProperty('exists');
      expect(rows.find((r) => r.iface === 'eno2')).toMatchObject({ comments: 'spare uplink', mtu: 9000, exists: true });
    });

    it('storage use is one percentage, named alike, in both storage tools', async () => {
      const list = items(await run('get_storage', { node: 'pve1', storage: 'local-lvm' }))[0];
      const one = record(await run('get_storage_status', { node: 'pve1', storage: 'local-lvm' }));
      expect(typeof list?.used_pct).toBe('number');
      expect(one.used_pct).toBe(list?.used_pct);
      expect(list).not.toHaveProperty('used');
      expect(one.used).toMatch(/iB$/);
    });
  });

  describe('no noise by default, all of it on request', () => {
    it('VM status leaves out block, balloon, QEMU-feature and NIC detail; fields brings it back', async () => {
      const lean = await run('get_vm_status', { node: 'pve1', vmid: 100 });
      for (const k of ['blockstat', 'ballooninfo', 'proxmox-support', 'nics']) expect(record(lean)).not.toHaveProperty(k);
      expect(countTokens(lean.text)).toBeLessThan(290);
      const full = record(await run('get_vm_status', { node: 'pve1', vmid: 100, fields: ['blockstat', 'nics'] }));
      expect(Object.keys(full)).toEqual(['blockstat', 'nics']);
      expect((full.blockstat as Obj).scsi0).toBeDefined();
    });

    it('node status leaves out the CPU flags unless asked for', async () => {
      const lean = record(await run('get_node_status', { node: 'pve1' }));
      expect((lean.cpuinfo as Obj).model).toBe('AMD EPYC 7313P 16-Core Processor');
      expect(lean.cpuinfo).not.toHaveProperty('flags');
      const flags = record(await run('get_node_status', { node: 'pve1', fields: ['cpuinfo.flags'] }));
      expect((flags.cpuinfo as Obj).flags).toMatch(/^fpu vme/);
    });
  });

  describe('fewer calls', () => {
    it('VM 100 by vmid in one small answer, then its IP: two calls', async () => {
      const vm = items(await run('get_vms', { vmid: 100 }));
      expect(vm).toHaveLength(1);
      const net = await run('get_vm_network', { node: String(vm[0]?.node), vmid: 100 });
      expect(net.text).toContain('"10.0.0.100"');
      expect(countTokens(JSON.stringify(vm)) + countTokens(net.text)).toBeLessThan(600);
    });

    it('failed tasks cluster-wide in one call', async () => {
      const failed = items(await run('get_cluster_tasks', { errors: true }));
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((t) => typeof t.status === 'string' && t.status !== 'OK')).toBe(true);
      const all = items(await run('get_cluster_tasks', { limit: 500 }));
      expect(failed.length).toBe(all.filter((t) => t.status !== undefined && t.status !== 'OK').length);
    });

    it('the fullest storage first', async () => {
      const rows = items(await run('get_storage', { sort: 'used_pct', order: 'desc' }));
      const used = rows.map((r) => r.used_pct).filter((u): u is number => typeof u === 'number');
      expect(used).toEqual([...used].sort((a, b) => b - a));
      expect(rows.at(-1)?.node).toBe('pve3');
    });
  });

  describe('what is enforced is published, and what is meant is read', () => {
    it('output schemas name fields; arguments show the page bound and that unknown ones are refused', async () => {
      const { tools } = await suite.mcp.client.listTools();
      const vms = tools.find((t) => t.name === 'get_vms');
      expect(vms?.outputSchema).not.toEqual({ type: 'object' });
      expect(vms?.inputSchema.additionalProperties).toBe(false);
      expect((vms?.inputSchema.properties as Record<string, Obj>).limit).toMatchObject({ maximum: 500 });
    });

    it('reads "100" as VM 100', async () => {
      const s = record(await run('get_vm_status', { node: 'pve1', vmid: '100' }));
      expect(s.vmid).toBe(100);
      expect(items(await run('get_vms', { vmid: '100' })).map((g) => g.vmid)).toEqual([100]);
      const bad = await run('get_vm_status', { node: 'pve1', vmid: '10x' });
      expect(bad.isError).toBe(true);
    });
  });
});

describe('a 58-guest cluster', () => {
  const suite = serverSuite(() => ({ cluster: makeCluster({ nodes: 2, guestsPerNode: 29, offline: [] }) }));

  it('lists every guest in one call', async () => {
    const r = await call(suite.mcp.client, 'get_vms');
    expect(items(r)).toHaveLength(58);
    expect(r.structured).not.toHaveProperty('next_offset');
  });
});

describe('a 5,000-guest cluster', () => {
  const suite = serverSuite(() => ({ cluster: makeBigCluster() }));

  it('says in one short line how many guests remain and how to get them', async () => {
    const r = await call(suite.mcp.client, 'get_vms');
    const shown = items(r).length;
    expect(shown).toBeGreaterThan(50);
    expect(r.structured?.next_offset).toBe(shown);
    expect(r.text.split('\n').at(-1)).toBe(`${5000 - shown} more: call again with offset=${shown}`);
  });
});
