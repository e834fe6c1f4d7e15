// The whole read-only catalogue against the fake Proxmox over real TLS, as a host runs it: every tool
// on its happy path (values from the fake's model) and on at least one failure path, the size of
// tools/list, paging over 5,000 guests, and that secrets and hostile text never reach the model.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { PVE_AUDITOR, makeBigCluster, makeCluster, makeToken } from './fake-proxmox/index.js';
import { call, type CallOutcome } from './support/mcp.js';
import { serverSuite } from './support/suite.js';

type Obj = Record<string, unknown>;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UNREACHABLE = /Node pve3 is unreachable/;
const NOT_FOUND = /^Not found: /;
const INVALID = /must be one of|unknown argument|must match|must be <=|must be >=|missing required|Invalid argument/;

// Asymmetric matchers are typed `any`: give them a type so nothing unchecked leaks into literals.
function matching(re: RegExp): unknown {
  return expect.stringMatching(re);
}
function containing(text: string): unknown {
  return expect.stringContaining(text);
}
function anyOf(type: NumberConstructor | StringConstructor): unknown {
  return expect.any(type);
}
function objectWith(o: Obj): unknown {
  return expect.objectContaining(o);
}
const anIso = matching(ISO);

function items(r: CallOutcome): Obj[] {
  expect(r.isError, r.text).toBe(false);
  return r.structured?.items as Obj[];
}

function record(r: CallOutcome): Obj {
  expect(r.isError, r.text).toBe(false);
  return r.structured ?? {};
}

interface Case {
  args: Obj;
  check: (r: CallOutcome) => void | Promise<void>;
}

/** Every answer any case produced, for the checks that span all tools. */
const seen: string[] = [];
/** Every structured answer, by tool, to be checked against the tool's published output schema. */
const structured: { name: string; value: Record<string, unknown> }[] = [];

describe('the catalogue on a three-node cluster (pve3 offline)', () => {
  const suite = serverSuite();
  const run = async (name: string, args: Obj = {}): Promise<CallOutcome> => {
    const r = await call(suite.mcp.client, name, args);
    seen.push(r.text);
    if (r.structured !== undefined) structured.push({ name, value: r.structured });
    return r;
  };
  const failsWith = (re: RegExp) => (r: CallOutcome): void => {
    expect(r.isError, r.text).toBe(true);
    expect(r.text).toMatch(re);
  };
  const agentUnavailable = (reason: string) => (r: CallOutcome): void => {
    expect(r.isError, r.text).toBe(false);
    expect(r.structured).toMatchObject({ agent: 'unavailable', reason });
    expect(r.structured?.message).toEqual(anyOf(String));
  };


  it('offers at least 40 tools, each read-only, non-destructive, idempotent, open-world stated', async () => {
    const { tools } = await suite.mcp.client.listTools();
    expect(tools.length).toBeGreaterThanOrEqual(40);
    for (const tool of tools) {
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);
      expect(tool.annotations?.destructiveHint, tool.name).toBe(false);
      expect(tool.annotations?.idempotentHint, tool.name).toBe(true);
      expect(typeof tool.annotations?.openWorldHint, tool.name).toBe('boolean');
    }
  });

  it('keeps tools/list small: at most 150 tokens a tool on average, none over 300', async () => {
    const { tools } = await suite.mcp.client.listTools();
    const sizes = tools.map((t) => ({ name: t.name, tokens: countTokens(JSON.stringify(t)) }));
    const average = sizes.reduce((sum, s) => sum + s.tokens, 0) / sizes.length;
    expect(average).toBeLessThanOrEqual(150);
    expect(sizes.filter((s) => s.tokens > 300)).toEqual([]);
  });

  it('publishes output schemas that name fields and their types', async () => {
    const { tools } = await suite.mcp.client.listTools();
    const vms = tools.find((t) => t.name === 'get_vms');
    const row = (vms?.outputSchema?.properties as { items: { items: { properties: Obj } } }).items.items.properties;
    expect(Object.keys(row).slice(0, 5)).toEqual(['vmid', 'name', 'node', 'type', 'status']);
    expect(row).toMatchObject({ vmid: { type: 'integer' }, cpu_pct: { type: 'number' }, tags: { type: 'array' }, template: { type: 'boolean' } });
    const bare = tools.filter((t) => JSON.stringify(t.outputSchema) === '{"type":"object"}').map((t) => t.name);
    expect(bare.length).toBeLessThan(tools.length / 5);
  });

  const happy: Record<string, Case> = {
    get_nodes: { args: {}, check: (r) => { expect(items(r).map((n) => [n.node, n.status])).toEqual([['pve1', 'online'], ['pve2', 'online'], ['pve3', 'offline']]); } },
    get_node_status: {
      args: { node: 'pve1' },
      check: (r) => {
        const s = record(r);
        expect((s.cpuinfo as Obj).model).toBe('AMD EPYC 7313P 16-Core Processor');
        expect((s.memory as Obj).total).toBe('256 GiB');
      },
    },
    get_vms: {
      args: { node: 'pve1', order: 'asc' },
      check: (r) => {
        expect(items(r).map((g) => g.vmid)).toEqual([100, 101, 102, 103]);
        expect(items(r)[0]).toMatchObject({ name: 'web-01', type: 'qemu', tags: ['prod', 'web'], hastate: 'started' });
        expect(r.structured?.offline_nodes).toEqual(['pve3']);
      },
    },
    get_storage: { args: { storage: 'nfs-backup', node: 'pve1' }, check: (r) => { expect(items(r)).toMatchObject([{ storage: 'nfs-backup', shared: true, plugintype: 'nfs' }]); } },
    get_cluster_status: { args: {}, check: (r) => { expect(items(r)[0]).toMatchObject({ type: 'cluster', name: 'lab', quorate: true, nodes: 3 }); } },
    get_cluster_resources: {
      args: { type: 'node' },
      check: (r) => {
        expect(items(r).map((n) => [n.node, n.status])).toEqual([['pve1', 'online'], ['pve2', 'online'], ['pve3', 'offline']]);
        expect(items(r)[0]?.maxmem).toBe('256 GiB');
      },
    },
    get_ha_status: {
      args: {},
      check: (r) => {
        expect(items(r)).toContainEqual(objectWith({ id: 'quorum', quorate: true }));
        expect(items(r)).toContainEqual(objectWith({ sid: 'vm:100', state: 'started', node: 'pve1' }));
      },
    },
    get_ha_resources: { args: { type: 'vm' }, check: (r) => { expect(items(r).map((h) => h.sid)).toEqual(['vm:100', 'vm:104']); } },
    get_cluster_tasks: {
      args: { node: 'pve1', type: 'vzdump', vmid: '101' },
      check: (r) => {
        expect(items(r)).toHaveLength(1);
        expect(items(r)[0]).toMatchObject({ status: 'job errors', id: '101', starttime: anIso });
      },
    },
    get_backup_jobs: {
      args: {},
      check: (r) => {
        expect(items(r)[0]).toMatchObject({ id: 'backup-5c2b9a1e-7f3d', enabled: true, all: true, exclude: '103,110', 'next-run': anIso });
        expect(items(r)[1]).toMatchObject({ id: 'backup-weekly-prod', enabled: false, pool: 'production' });
      },
    },
    get_not_backed_up: { args: {}, check: (r) => { expect(items(r).map((g) => g.vmid)).toEqual([103, 110]); } },
    get_replication_jobs: { args: {}, check: (r) => { expect(items(r)).toMatchObject([{ id: '100-0', guest: 100, source: 'pve1', target: 'pve2' }]); } },
    get_ceph_status: {
      // Without Ceph the fake answers 500 as a real host does; the tool says so plainly, not as a failure.
      args: {},
      check: (r) => { expect(record(r)).toMatchObject({ ceph: 'not-installed', message: 'Ceph is not set up on this cluster.' }); },
    },
    get_version: { args: {}, check: (r) => { expect(record(r)).toMatchObject({ version: '9.1.1', release: '9.1' }); } },
    get_cluster_log: {
      args: { max: 20, node: 'pve2' },
      check: (r) => {
        expect(items(r)).toHaveLength(10);
        expect(items(r).every((e) => e.node === 'pve2' && ISO.test(String(e.time)))).toBe(true);
      },
    },
    get_pools: {
      args: { poolid: 'production' },
      check: (r) => {
        const members = items(r)[0]?.members as Obj[];
        expect(members.map((m) => m.vmid)).toEqual([100, 102]);
      },
    },
    get_node_version: { args: { node: 'pve2' }, check: (r) => { expect(record(r)).toMatchObject({ version: '9.1.1' }); } },
    get_node_time: { args: { node: 'pve1' }, check: (r) => { expect(record(r)).toEqual({ timezone: 'Europe/Vienna', time: anIso }); } },
    get_node_dns: { args: { node: 'pve1' }, check: (r) => { expect(record(r)).toMatchObject({ search: 'lab.example', dns1: '10.0.0.1' }); } },
    get_node_network: { args: { node: 'pve1', type: 'bridge' }, check: (r) => { expect(items(r)).toMatchObject([{ iface: 'vmbr0', cidr: '10.0.0.11/24', gateway: '10.0.0.1', active: true }]); } },
    get_node_disks: {
      args: { node: 'pve2' },
      check: (r) => {
        const sdb = items(r).find((d) => d.devpath === '/dev/sdb');
        expect(sdb).toMatchObject({ health: 'FAILED', size: '3.64 TiB', rpm: 7200 });
        // An HDD has no wear figure ("N/A"): left out rather than a string among numbers.
        expect(sdb).not.toHaveProperty('wearout_pct');
        expect(items(r).find((d) => d.devpath === '/dev/sda')?.wearout_pct).toBe(4);
      },
    },
    get_disk_smart: {
      args: { node: 'pve2', disk: '/dev/sdb' },
      check: (r) => {
        expect(record(r).health).toBe('FAILED');
        expect((record(r).attributes as Obj[])[0]).toMatchObject({ name: 'Reallocated_Sector_Ct', fail: 'FAILING_NOW' });
      },
    },
    get_zfs_pools: { args: { node: 'pve1' }, check: (r) => { expect(items(r)).toMatchObject([{ name: 'rpool', health: 'ONLINE', frag_pct: 14, size: '887 GiB' }]); } },
    get_node_services: { args: { node: 'pve1', state: 'dead' }, check: (r) => { expect(items(r).map((s) => s.service)).toEqual(['proxmox-firewall']); } },
    get_node_tasks: {
      args: { node: 'pve1', errors: true },
      check: (r) => {
        expect(items(r).length).toBeGreaterThan(0);
        expect(items(r).every((t) => t.status !== 'OK')).toBe(true);
        expect(items(r).map((t) => t.type)).toEqual(expect.arrayContaining(['vzdump', 'srvreload']));
      },
    },
    get_task_status: { args: {}, check: () => undefined },
    get_task_log: { args: {}, check: () => undefined },
    get_node_metrics: {
      args: { node: 'pve1', timeframe: 'day', cf: 'MAX' },
      check: (r) => {
        expect(r.structured?.total).toBe(70);
        const point = items(r)[0] ?? {};
        expect(point.time).toMatch(ISO);
        expect(point.netin).toMatch(/\/s$/);
        expect(point.cpu_pct).toEqual(anyOf(Number));
      },
    },
    // Needs Sys.Modify: its happy path runs below with a token that holds it.
    get_node_updates: { args: {}, check: () => undefined },
    // Needs Sys.Syslog, which PVEAuditor lacks: its happy path runs below with a token that holds it.
    get_node_syslog: { args: {}, check: () => undefined },
    get_node_packages: { args: { node: 'pve1' }, check: (r) => { expect(items(r)).toContainEqual({ Package: 'pve-manager', Version: '9.1.1', CurrentState: 'Installed' }); } },
    get_node_firewall_options: { args: { node: 'pve1' }, check: (r) => { expect(record(r)).toEqual({ enable: true, log_level_in: 'nolog', log_level_out: 'nolog', nosmurfs: true, tcpflags: false }); } },
    get_cluster_firewall_options: {
      args: {},
      check: (r) => { expect(record(r)).toEqual({ enable: true, policy_in: 'DROP', policy_out: 'ACCEPT', ebtables: true, log_ratelimit: 'burst=5,enable=1,rate=1/second', policy_forward: 'ACCEPT' }); },
    },
    get_ha_rules: {
      args: { type: 'node-affinity' },
      check: (r) => {
        expect(items(r)).toEqual([
          { rule: 'prefer-pve1', type: 'node-affinity', resources: ['vm:100', 'vm:104'], nodes: ['pve1:2', 'pve2:1'], strict: false },
          { rule: 'old-pin', type: 'node-affinity', resources: ['ct:102'], nodes: ['pve2'], strict: true, disable: true },
        ]);
      },
    },
    get_sdn_zones: {
      args: {},
      check: (r) => {
        expect(items(r).map((z) => z.zone)).toEqual(['lab', 'localnetwork', 'vlans']);
        expect(items(r)[0]).toMatchObject({ zone: 'lab', type: 'simple', mtu: 1450, nodes: ['pve1', 'pve2'] });
      },
    },
    get_sdn_vnets: { args: {}, check: (r) => { expect(items(r)).toContainEqual({ vnet: 'dmz', zone: 'vlans', tag: 20, 'isolate-ports': true, vlanaware: false }); } },
    get_container_interfaces: { args: { node: 'pve1', vmid: 102 }, check: (r) => { expect(items(r)).toContainEqual(objectWith({ name: 'eth0', inet: '10.0.0.102/24' })); } },
    get_node_certificates: {
      args: { node: 'pve1' },
      check: (r) => {
        expect(items(r).map((c) => c.filename)).toEqual(['pve-root-ca.pem', 'pve-ssl.pem']);
        expect(items(r)[1]?.notafter).toMatch(ISO);
        expect(r.text).not.toMatch(/BEGIN|PRIVATE|"pem"/);
      },
    },
    get_node_replication: {
      args: { node: 'pve1' },
      check: (r) => { expect(items(r)).toMatchObject([{ id: '100-0', guest: 100, target: 'pve2', fail_count: 0, last_sync: anIso }]); },
    },
    get_vm_status: {
      args: { node: 'pve1', vmid: 100 },
      check: (r) => { expect(record(r)).toMatchObject({ name: 'web-01', status: 'running', agent: true, ha: { managed: true, state: 'started' }, tags: ['prod', 'web'] }); },
    },
    get_container_status: { args: { node: 'pve1', vmid: 102 }, check: (r) => { expect(record(r)).toMatchObject({ name: 'dns-01', status: 'running', type: 'lxc', ha: { managed: false } }); } },
    get_vm_config: {
      args: { node: 'pve1', vmid: 100, snapshot: 'weekly' },
      check: (r) => { expect(record(r)).toMatchObject({ name: 'web-01', memory: anyOf(Number), onboot: true, snaptime: anIso }); },
    },
    get_container_config: { args: { node: 'pve1', vmid: 102 }, check: (r) => { expect(record(r)).toMatchObject({ hostname: 'dns-01', unprivileged: true, tags: ['prod', 'dns'] }); } },
    get_vm_pending: {
      args: { node: 'pve1', vmid: 100 },
      check: (r) => {
        expect(items(r).map((p) => p.option)).toEqual(['memory', 'net1']);
        expect(items(r)[0]).toMatchObject({ pending: '8192' });
      },
    },
    get_container_pending: { args: { node: 'pve1', vmid: 102 }, check: (r) => { expect(r.structured).toMatchObject({ items: [], total: 0 }); } },
    get_vm_snapshots: {
      args: { node: 'pve1', vmid: 100 },
      check: (r) => {
        expect(items(r).map((s) => s.name)).toEqual(['before-upgrade', 'weekly', 'current']);
        expect(items(r)[1]).toMatchObject({ parent: 'before-upgrade', snaptime: anIso, vmstate: false });
      },
    },
    get_container_snapshots: { args: { node: 'pve2', vmid: 106 }, check: (r) => { expect(items(r).map((s) => s.name)).toEqual(['before-upgrade', 'current']); } },
    get_vm_metrics: {
      args: { node: 'pve1', vmid: 100, timeframe: 'hour' },
      check: (r) => {
        expect(r.structured?.total).toBe(70);
        expect(items(r)[0]).toMatchObject({ time: anIso, cpu_pct: anyOf(Number), diskread: matching(/\/s$/) });
      },
    },
    get_container_metrics: { args: { node: 'pve1', vmid: 102, timeframe: 'week' }, check: (r) => { expect(items(r)[0]).toMatchObject({ mem: matching(/iB$/), netin: matching(/\/s$/) }); } },
    get_vm_firewall_rules: {
      args: { node: 'pve1', vmid: 103 },
      check: (r) => {
        expect(items(r).map((f) => f.pos)).toEqual([0, 1, 2, 3]);
        expect(items(r)[2]).toMatchObject({ action: 'DROP', dport: '3306', enable: false });
      },
    },
    get_container_firewall_rules: { args: { node: 'pve1', vmid: 102 }, check: (r) => { expect(items(r)[0]).toMatchObject({ macro: 'SSH', action: 'ACCEPT', enable: true, comment: 'admin network' }); } },
    get_vm_os_info: { args: { node: 'pve1', vmid: 100 }, check: (r) => { expect(record(r)).toMatchObject({ 'pretty-name': 'Debian GNU/Linux 13 (trixie)', 'kernel-release': '6.12.48+deb13-amd64' }); } },
    get_vm_filesystems: {
      args: { node: 'pve1', vmid: 100 },
      check: (r) => {
        expect(items(r).map((f) => f.mountpoint)).toEqual(['/', '/boot/efi']);
        expect(items(r)[0]).toMatchObject({ type: 'ext4', 'total-bytes': matching(/GiB$/), used_pct: anyOf(Number) });
        expect(items(r)[0]).not.toHaveProperty('disk');
      },
    },
    get_vm_network: {
      args: { node: 'pve1', vmid: 100 },
      check: (r) => {
        const eth0 = items(r).find((i) => i.name === 'eth0');
        expect(eth0?.['ip-addresses']).toContainEqual(objectWith({ 'ip-address': '10.0.0.100', prefix: 24 }));
      },
    },
    get_storage_status: { args: { node: 'pve1', storage: 'local-lvm' }, check: (r) => { expect(record(r)).toMatchObject({ type: 'lvmthin', active: true, total: '1.76 TiB', used_pct: anyOf(Number) }); } },
    get_storage_content: {
      args: { node: 'pve1', storage: 'nfs-backup', content: 'backup', vmid: 100 },
      check: (r) => {
        expect(items(r)).toHaveLength(1);
        expect(items(r)[0]).toMatchObject({ vmid: 100, content: 'backup', volid: containing('vzdump-qemu-100-'), ctime: anIso });
      },
    },
  };

  const failures: Record<string, Case> = {
    get_nodes: { args: { sort: 'ram' }, check: failsWith(INVALID) },
    get_node_status: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    get_vms: { args: { status: 'sleeping' }, check: failsWith(INVALID) },
    get_storage: { args: { limit: 0 }, check: failsWith(INVALID) },
    get_cluster_status: { args: { node: 'pve1' }, check: failsWith(INVALID) },
    get_cluster_resources: { args: { type: 'lxc' }, check: failsWith(INVALID) },
    get_ha_status: { args: { verbose: true }, check: failsWith(INVALID) },
    get_ha_resources: { args: { type: 'qemu' }, check: failsWith(INVALID) },
    get_cluster_tasks: { args: { offset: -1 }, check: failsWith(INVALID) },
    get_backup_jobs: { args: { id: 'x' }, check: failsWith(INVALID) },
    get_not_backed_up: { args: { limit: 501 }, check: failsWith(INVALID) },
    get_replication_jobs: { args: { guest: 100 }, check: failsWith(INVALID) },
    get_ceph_status: { args: { node: 'pve1' }, check: failsWith(INVALID) },
    get_version: { args: { node: 'pve1' }, check: failsWith(INVALID) },
    get_cluster_log: { args: { max: 5000 }, check: failsWith(INVALID) },
    get_pools: { args: { poolid: 'nope' }, check: failsWith(NOT_FOUND) },
    get_node_version: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    get_node_time: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    get_node_dns: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    get_node_network: { args: { node: 'pve1', type: 'wifi' }, check: failsWith(INVALID) },
    get_node_disks: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    // The spec's pattern is not repeated in tools/list but still enforced before anything is sent.
    get_disk_smart: { args: { node: 'pve1', disk: 'sda; rm' }, check: failsWith(/Invalid argument disk/) },
    get_zfs_pools: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    get_node_services: { args: { node: '../etc' }, check: failsWith(/Invalid argument node/) },
    get_node_tasks: { args: { node: 'pve1', limit: 1000 }, check: failsWith(INVALID) },
    get_task_status: { args: { node: 'pve1', upid: 'UPID:../../etc/passwd' }, check: failsWith(INVALID) },
    get_task_log: { args: { node: 'pve1', upid: 'not-a-upid' }, check: failsWith(INVALID) },
    get_node_metrics: { args: { node: 'pve1', timeframe: 'decade' }, check: failsWith(INVALID) },
    get_node_syslog: { args: { node: 'pve1' }, check: failsWith(/^Reading a node's system log needs Sys.Syslog/) },
    get_node_packages: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    get_node_firewall_options: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    get_cluster_firewall_options: { args: { extra: 1 }, check: failsWith(INVALID) },
    get_ha_rules: { args: { type: 'group' }, check: failsWith(INVALID) },
    get_sdn_zones: { args: { type: 'ovs' }, check: failsWith(INVALID) },
    get_sdn_vnets: { args: { zone: 'lab' }, check: failsWith(INVALID) },
    get_container_interfaces: {
      args: { node: 'pve2', vmid: 106 },
      check: (r) => { expect(r.structured).toMatchObject({ reason: 'ct-stopped', items: [], total: 0 }); },
    },
    get_node_updates: { args: { node: 'pve1' }, check: failsWith(/^Listing pending updates needs Sys.Modify/) },
    get_node_certificates: { args: { node: 'pve3' }, check: failsWith(UNREACHABLE) },
    get_node_replication: { args: { node: 'pve1', guest: 5 }, check: failsWith(INVALID) },
    get_vm_status: { args: { node: 'pve1', vmid: 999 }, check: failsWith(NOT_FOUND) },
    get_container_status: { args: { node: 'pve1', vmid: 100 }, check: failsWith(NOT_FOUND) },
    get_vm_config: { args: { node: 'pve1', vmid: 100, snapshot: 'nope' }, check: failsWith(/snapshot 'nope' does not exist/) },
    get_container_config: { args: { node: 'pve3', vmid: 108 }, check: failsWith(UNREACHABLE) },
    get_vm_pending: { args: { node: 'pve2', vmid: 100 }, check: failsWith(NOT_FOUND) },
    get_container_pending: { args: { node: 'pve1', vmid: 999 }, check: failsWith(NOT_FOUND) },
    get_vm_snapshots: { args: { node: 'pve1' }, check: failsWith(INVALID) },
    get_container_snapshots: { args: { node: 'pve1', vmid: 50 }, check: failsWith(INVALID) },
    get_vm_metrics: { args: { node: 'pve1', vmid: 100, timeframe: 'hour', cf: 'MIN' }, check: failsWith(INVALID) },
    get_container_metrics: { args: { node: 'pve1', vmid: 102 }, check: failsWith(INVALID) },
    get_vm_firewall_rules: { args: { node: 'pve1', vmid: 102 }, check: failsWith(NOT_FOUND) },
    get_container_firewall_rules: { args: { node: 'pve3', vmid: 108 }, check: failsWith(UNREACHABLE) },
    get_vm_os_info: { args: { node: 'pve2', vmid: 104 }, check: agentUnavailable('not-configured') },
    get_vm_filesystems: { args: { node: 'pve2', vmid: 107 }, check: agentUnavailable('agent-error') },
    get_vm_network: { args: { node: 'pve2', vmid: 105 }, check: agentUnavailable('not-running') },
    get_storage_status: { args: { node: 'pve1', storage: 'nope' }, check: failsWith(/refused the arguments \(storage: No such storage/) },
    get_storage_content: { args: { node: 'pve1', storage: 'nope' }, check: failsWith(NOT_FOUND) },
  };

  it('has a happy and a failure case for every tool it offers', async () => {
    const { tools } = await suite.mcp.client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(Object.keys(happy).sort()).toEqual(names);
    expect(Object.keys(failures).sort()).toEqual(names);
  });

  for (const [name, c] of Object.entries(happy)) {
    if (name === 'get_task_status' || name === 'get_task_log' || name === 'get_node_updates' || name === 'get_node_syslog') continue;
    it(`${name}: answers from the model`, async () => {
      await c.check(await run(name, c.args));
    });
  }

  for (const [name, c] of Object.entries(failures)) {
    it(`${name}: fails clearly`, async () => {
      await c.check(await run(name, c.args));
    });
  }

  it('get_task_status and get_task_log follow a task found by get_node_tasks', async () => {
    const tasks = items(await run('get_node_tasks', { node: 'pve1', type: 'vzdump', vmid: 100 }));
    const upid = String(tasks[0]?.upid);
    expect(upid).toMatch(/^UPID:pve1:/);
    expect(record(await run('get_task_status', { node: 'pve1', upid }))).toMatchObject({ status: 'stopped', exitstatus: 'OK', type: 'vzdump', starttime: anIso });

    const first = await run('get_task_log', { node: 'pve1', upid, limit: 5 });
    expect(items(first)).toHaveLength(5);
    expect(items(first)[0]).toMatch(/^INFO: starting new backup job/);
    const total = Number(first.structured?.total);
    expect(first.structured?.next_offset).toBe(5);
    const last = await run('get_task_log', { node: 'pve1', upid, offset: total - 1, limit: 5 });
    expect(items(last)).toEqual(['TASK OK']);
    expect(last.structured).not.toHaveProperty('next_offset');
  });

  it('node task history pages upstream', async () => {
    const first = await run('get_node_tasks', { node: 'pve1', limit: 2 });
    expect(items(first)).toHaveLength(2);
    expect(first.structured?.next_offset).toBe(2);
    const second = await run('get_node_tasks', { node: 'pve1', limit: 2, offset: 2 });
    expect(items(second).map((t) => t.upid)).not.toContain(items(first)[0]?.upid);
  });

  it('a guest agent that cannot answer is described, never a failure', async () => {
    agentUnavailable('vm-stopped')(await run('get_vm_os_info', { node: 'pve1', vmid: 101 }));
    agentUnavailable('not-running')(await run('get_vm_os_info', { node: 'pve2', vmid: 105 }));
    const inside200 = await run('get_vm_os_info', { node: 'pve2', vmid: 107 });
    agentUnavailable('agent-error')(inside200);
    expect(inside200.text).not.toContain('GenericError');
    // A list tool still answers with an empty list, so its output schema holds.
    expect((await run('get_vm_filesystems', { node: 'pve1', vmid: 101 })).structured).toMatchObject({ agent: 'unavailable', items: [], total: 0 });
  });

  it('redacts secrets in a guest config: cipassword and a password written in the notes', async () => {
    const cfg = record(await run('get_vm_config', { node: 'pve2', vmid: 107 }));
    expect(cfg.cipassword).toBe('[redacted]');
    expect(cfg.description).toContain('password=[redacted]');
    expect(cfg.ciuser).toBe('deploy');
  });

  it('cleans bidirectional and invisible characters from a hostile guest name', async () => {
    const answers = [
      items(await run('get_vms', { node: 'pve2', type: 'qemu' })).find((g) => g.vmid === 105)?.name,
      record(await run('get_vm_status', { node: 'pve2', vmid: 105 })).name,
      record(await run('get_vm_config', { node: 'pve2', vmid: 105 })).name,
    ];
    for (const name of answers) {
      expect(name).toBe('invoicefdp.exe-srv');
      expect(String(name)).not.toMatch(/[\u202A-\u202E\u200B-\u200F\u2060-\u206F]/u);
    }
  });

  it('no answer of any tool carried the secret from the notes', () => {
    expect(seen.length).toBeGreaterThan(90);
    for (const text of seen) expect(text).not.toContain('Winter2026!');
  });

  it('every structured answer of every tool holds to the output schema it publishes', async () => {
    const { tools } = await suite.mcp.client.listTools();
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    const validators = new Map(tools.map((t) => [t.name, ajv.compile((t.outputSchema ?? { type: 'object' }) as Record<string, unknown>)]));
    expect(new Set(structured.map((a) => a.name)).size).toBeGreaterThanOrEqual(tools.length - 2);
    for (const answer of structured) {
      const validate = validators.get(answer.name);
      expect(validate?.(answer.value), `${answer.name}: ${JSON.stringify(validate?.errors)}`).toBe(true);
    }
  });
});

describe('the catalogue on a 5,000-guest cluster with Ceph, with a token that may list updates', () => {
  const BUDGET = 24_000;
  const suite = serverSuite(() => ({
    cluster: makeBigCluster({ ceph: true }),
    tokens: [makeToken('root@pam!mcp', { '/': { ...PVE_AUDITOR }, '/nodes': { 'Sys.Modify': 1, 'Sys.Syslog': 1 } })],
  }));

  it('get_vms pages through all 5,000 guests within budget, from one upstream request', async () => {
    const resourceRequests = (): number => suite.fake.requests.filter((q) => q.path === '/api2/json/cluster/resources').length;
    const before = resourceRequests();
    const ids: number[] = [];
    let offset: number | undefined = 0;
    let pages = 0;
    while (offset !== undefined) {
      const r = await call(suite.mcp.client, 'get_vms', { limit: 500, offset });
      expect(r.isError, r.text).toBe(false);
      expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(BUDGET);
      expect(r.structured?.total).toBe(5000);
      expect(r.structured?.offset).toBe(offset);
      const page = r.structured?.items as Obj[];
      expect(page.length).toBeGreaterThan(0);
      ids.push(...page.map((g) => Number(g.vmid)));
      offset = r.structured?.next_offset as number | undefined;
      pages++;
      expect(pages).toBeLessThan(200);
    }
    expect(pages).toBeGreaterThan(10);
    expect(resourceRequests() - before).toBe(1);
    expect(ids).toHaveLength(5000);
    expect(new Set(ids).size).toBe(5000);
    expect(ids).toEqual(Array.from({ length: 5000 }, (_, i) => 100 + i));
  });

  it('a first page asks Proxmox afresh, and so does a page of another question', async () => {
    const resourceRequests = (): number => suite.fake.requests.filter((q) => q.path === '/api2/json/cluster/resources').length;
    const before = resourceRequests();
    await call(suite.mcp.client, 'get_vms', {});
    await call(suite.mcp.client, 'get_vms', { offset: 50 });
    expect(resourceRequests() - before).toBe(1);
    await call(suite.mcp.client, 'get_vms', {});
    expect(resourceRequests() - before).toBe(2);
    // Another sort is another question: its later pages are not cut from the vmid-ordered listing.
    const byName = await call(suite.mcp.client, 'get_vms', { sort: 'name', offset: 50 });
    expect(byName.isError, byName.text).toBe(false);
    expect(resourceRequests() - before).toBe(3);
    // A limit only changes the page: still the same question.
    const small = await call(suite.mcp.client, 'get_vms', { offset: 100, limit: 5 });
    expect((small.structured?.items as Obj[]).map((g) => g.vmid)).toEqual([200, 201, 202, 203, 204]);
    expect(resourceRequests() - before).toBe(3);
  });

  it('get_ceph_status reports health where Ceph runs', async () => {
    const r = await call(suite.mcp.client, 'get_ceph_status');
    expect(r.isError, r.text).toBe(false);
    expect(r.structured).toMatchObject({ health: { status: 'HEALTH_WARN' }, osdmap: { num_osds: 100, num_up_osds: 98 } });
  });

  it('get_node_syslog pages a node\'s system log when the token holds Sys.Syslog', async () => {
    const r = await call(suite.mcp.client, 'get_node_syslog', { node: 'pve1', service: 'pveproxy', limit: 5 });
    expect(r.isError, r.text).toBe(false);
    const lines = r.structured?.items as string[];
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => l.includes(' pveproxy['))).toBe(true);
    expect(r.structured?.next_offset).toBe(5);
  });

  it('get_node_updates lists pending updates when the token holds Sys.Modify', async () => {
    const r = await call(suite.mcp.client, 'get_node_updates', { node: 'pve1' });
    expect(items(r).find((p) => p.Package === 'pve-manager')).toEqual({ Package: 'pve-manager', Version: '9.1.2', OldVersion: '9.1.1', Origin: 'Proxmox', Priority: 'important' });
    expect(items(r).map((p) => p.Package)).toEqual(['openssl', 'proxmox-kernel-6.17', 'pve-manager']);
  });

  it('every list answer stays within its budget on a big cluster', async () => {
    for (const [name, args] of [
      ['get_cluster_resources', { limit: 500 }],
      ['get_cluster_tasks', { limit: 500 }],
      ['get_storage_content', { node: 'pve1', storage: 'nfs-backup', limit: 500 }],
    ] as const) {
      const r = await call(suite.mcp.client, name, args);
      expect(r.isError, r.text).toBe(false);
      expect(Buffer.byteLength(r.text), name).toBeLessThanOrEqual(BUDGET);
      expect(r.structured?.next_offset, name).toEqual(anyOf(Number));
    }
  });
});

describe('paging while the cluster changes', () => {
  const suite = serverSuite(() => ({ cluster: makeCluster({ nodes: 2, guestsPerNode: 60 }) }));

  it('a walk shows the cluster as it was at its first page: nothing skipped, nothing twice', async () => {
    const first = await call(suite.mcp.client, 'get_vms', { limit: 50 });
    expect(first.structured?.total).toBe(120);
    // From now on Proxmox reports another cluster: one guest, which no later page of the walk shows.
    const now = { data: [{ id: 'qemu/9000', type: 'qemu', vmid: 9000, node: 'pve1', name: 'late', status: 'running' }] };
    suite.fake.setFault('/cluster/resources', { kind: 'status', status: 200, body: JSON.stringify(now) });
    const ids = (first.structured?.items as Obj[]).map((g) => Number(g.vmid));
    let offset = first.structured?.next_offset as number | undefined;
    while (offset !== undefined) {
      const r = await call(suite.mcp.client, 'get_vms', { limit: 50, offset });
      expect(r.structured?.total).toBe(120);
      ids.push(...(r.structured?.items as Obj[]).map((g) => Number(g.vmid)));
      offset = r.structured?.next_offset as number | undefined;
    }
    expect(ids).toEqual(Array.from({ length: 120 }, (_, i) => 100 + i));
    // A new walk starts from the cluster as it is now.
    const again = await call(suite.mcp.client, 'get_vms', { limit: 50 });
    expect(again.structured?.total).toBe(1);
    expect((again.structured?.items as Obj[])[0]?.vmid).toBe(9000);
    suite.fake.clearFaults();
  });
});
