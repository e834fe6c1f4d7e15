// One handler per implemented GET, keyed by the spec's path template. Handlers only read the model;
// routing, authentication, permissions and parameter checks happen before they run.
import { X509Certificate } from 'node:crypto';
import type { GuestModel, NodeModel, StorageModel } from './cluster.js';
import { noise } from './cluster.js';
import type { FakeCertificates } from './certs.js';
import type { ClusterIndex, Row, TaskModel } from './data.js';
import { GiB, MiB, digest, mac, uuid } from './data.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

export function paramError(errors: Record<string, string>): ApiError {
  return new ApiError(400, 'Parameter verification failed.', errors);
}

export interface RouteContext {
  index: ClusterIndex;
  params: Record<string, string>;
  query: Record<string, string>;
  can: (path: string, privilege: string) => boolean;
  privileges: Record<string, Record<string, 1>>;
  certs: FakeCertificates;
}

/** An answer with keys beside `data`, such as `total`. */
export class Envelope {
  constructor(
    readonly data: unknown,
    readonly extra: Record<string, unknown>,
  ) {}
}

export type Handler = (ctx: RouteContext) => unknown;

const flag = (value: string | undefined): boolean => value !== undefined && /^(1|true|yes|on)$/i.test(value);
const int = (value: string | undefined, fallback: number): number => (value === undefined ? fallback : Number.parseInt(value, 10));

function node(ctx: RouteContext): NodeModel {
  // The router has already answered 500/595 for unknown and offline nodes.
  const found = ctx.index.nodes.get(ctx.params['node'] ?? '');
  if (found === undefined) throw new ApiError(500, 'node vanished');
  return found;
}

function guest(ctx: RouteContext, type: 'qemu' | 'lxc'): GuestModel {
  const nodeName = ctx.params['node'] ?? '';
  const vmid = Number(ctx.params['vmid']);
  const found = ctx.index.guests.get(vmid);
  if (found === undefined || found.node !== nodeName || found.type !== type) {
    const dir = type === 'qemu' ? 'qemu-server' : 'lxc';
    throw new ApiError(500, `Configuration file 'nodes/${nodeName}/${dir}/${vmid}.conf' does not exist`);
  }
  return found;
}

function storageOf(ctx: RouteContext): StorageModel {
  const id = ctx.params['storage'] ?? '';
  const found = ctx.index.storages.get(id);
  if (found === undefined || !ctx.index.storageOn(found, ctx.params['node'] ?? '')) {
    throw new ApiError(500, `storage '${id}' does not exist`);
  }
  return found;
}

function paged(rows: unknown[], ctx: RouteContext, defaultLimit: number): Envelope {
  const start = int(ctx.query['start'], 0);
  const limit = int(ctx.query['limit'], defaultLimit);
  return new Envelope(rows.slice(start, start + limit), { total: rows.length });
}

function guestListRow(ctx: RouteContext, g: GuestModel): Row {
  const { index } = ctx;
  const row: Row = {
    vmid: index.n(g.vmid),
    name: g.name,
    status: g.status,
    cpus: index.n(g.cores),
    maxmem: g.memoryMiB * MiB,
    maxdisk: index.n(g.diskGiB * GiB),
  };
  if (g.type === 'lxc') {
    row['type'] = 'lxc';
    row['maxswap'] = 512 * MiB;
  }
  if (g.status === 'running') {
    const m = index.metrics(g);
    Object.assign(row, {
      cpu: m.cpu, mem: m.mem, disk: index.n(m.disk), uptime: m.uptime, pid: index.n(m.pid),
      netin: m.netin, netout: m.netout, diskread: m.diskread, diskwrite: m.diskwrite,
    });
    if (g.type === 'qemu' && !index.old) row['memhost'] = m.mem + 48 * MiB;
  }
  if (g.template === true) row['template'] = 1;
  else if (index.old) row['template'] = '';
  if (g.tags !== undefined) row['tags'] = g.tags;
  if (g.lock !== undefined) row['lock'] = g.lock;
  return row;
}

function guestList(ctx: RouteContext, type: 'qemu' | 'lxc'): Row[] {
  const n = node(ctx);
  const full = flag(ctx.query['full']);
  return (ctx.index.guestsByNode.get(n.name) ?? [])
    .filter((g) => g.type === type && ctx.can(`/vms/${g.vmid}`, 'VM.Audit'))
    .map((g) => {
      const row = guestListRow(ctx, g);
      if (full && type === 'qemu') row['qmpstatus'] = g.status;
      return row;
    });
}

// An AMD EPYC host's /proc/cpuinfo flags, as long as the real line.
const CPU_FLAGS =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf rapl pni pclmulqdq monitor ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 invpcid cqm rdt_a rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local user_shstk clzero irperf xsaveerptr rdpru wbnoinvd amd_ppin brs arat npt lbrv svm_lock nrip_save tsc_scale vmcb_clean flushbyasid decodeassists pausefilter pfthreshold v_vmsave_vmload vgif v_spec_ctrl umip pku ospke vaes vpclmulqdq rdpid overflow_recov succor smca debug_swap';

function guestStatus(ctx: RouteContext, type: 'qemu' | 'lxc'): Row {
  const g = guest(ctx, type);
  const row = guestListRow(ctx, g);
  row['vmid'] = g.vmid;
  row['ha'] = g.hastate === undefined ? { managed: 0 } : { managed: 1, state: g.hastate, group: null };
  if (type === 'qemu') {
    row['qmpstatus'] = g.status;
    if (g.agent !== undefined) row['agent'] = 1;
    if (g.status === 'running') {
      row['running-machine'] = ctx.index.old ? 'pc-i440fx-7.2+pve0' : 'pc-i440fx-10.0+pve1';
      row['running-qemu'] = ctx.index.old ? '7.2.0' : '10.0.2';
      row['clipboard'] = null;
      Object.assign(row, qemuRuntimeDetail(ctx, g));
    }
  } else if (g.status === 'running') {
    // Containers report swap in use beside their limit; Proxmox sends 0 as a number.
    row['swap'] = 0;
  }
  if (g.status === 'running' && !ctx.index.old) {
    for (const [k, salt] of [['pressurecpusome', 51], ['pressurecpufull', 52], ['pressureiosome', 53], ['pressureiofull', 54], ['pressurememorysome', 55], ['pressurememoryfull', 56]] as const) {
      row[k] = Math.round(noise(g.vmid, salt) * 500) / 100;
    }
  }
  return row;
}

/**
 * What a running VM's status adds on a real host: balloon figures in raw bytes, per-disk block
 * statistics (dozens of counters each), the QEMU feature list and per-NIC counters.
 */
function qemuRuntimeDetail(ctx: RouteContext, g: GuestModel): Row {
  const m = ctx.index.metrics(g);
  const maxmem = g.memoryMiB * MiB;
  const block = (salt: number): Row => {
    const f = (k: number): number => Math.floor(noise(g.vmid * 31 + salt, k) * 1e9);
    return {
      account_failed: true, account_invalid: true, failed_flush_operations: 0, failed_rd_operations: 0, failed_unmap_operations: 0, failed_wr_operations: 0,
      failed_zone_append_operations: 0, flush_operations: f(1) % 100_000, flush_total_time_ns: f(2), idle_time_ns: f(3), invalid_flush_operations: 0,
      invalid_rd_operations: 0, invalid_unmap_operations: 0, invalid_wr_operations: 0, invalid_zone_append_operations: 0, rd_bytes: f(4) * 40,
      rd_merged: 0, rd_operations: f(5) % 1_000_000, rd_total_time_ns: f(6), timed_stats: [], unmap_bytes: 0, unmap_merged: 0, unmap_operations: 0,
      unmap_total_time_ns: 0, wr_bytes: f(7) * 30, wr_highest_offset: f(8) * 20, wr_merged: 0, wr_operations: f(9) % 1_000_000, wr_total_time_ns: f(10),
      zone_append_bytes: 0, zone_append_merged: 0, zone_append_operations: 0, zone_append_total_time_ns: 0,
    };
  };
  return {
    balloon: maxmem,
    freemem: maxmem - m.mem,
    ballooninfo: {
      actual: maxmem, max_mem: maxmem, total_mem: maxmem - 64 * MiB, free_mem: maxmem - m.mem, mem_swapped_in: 0, mem_swapped_out: 0,
      major_page_faults: 1200 + (g.vmid % 97), minor_page_faults: 5_000_000 + g.vmid, last_update: ctx.index.model.now - 2,
    },
    blockstat: { scsi0: block(1), ide2: block(2) },
    'proxmox-support': {
      'backup-fleecing': true, 'backup-max-workers': true, 'pbs-dirty-bitmap': true, 'pbs-dirty-bitmap-migration': true, 'pbs-dirty-bitmap-savevm': true,
      'pbs-library-version': '2.0.1 (UNKNOWN)', 'pbs-masterkey': true, 'query-bitmap-info': true,
    },
    nics: { [`tap${g.vmid}i0`]: { netin: m.netin, netout: m.netout } },
  };
}

function snapshots(ctx: RouteContext, type: 'qemu' | 'lxc'): Row[] {
  const g = guest(ctx, type);
  const rows: Row[] = [];
  let parent: string | undefined;
  g.snapshots.forEach((name, i) => {
    const row: Row = { name, snaptime: ctx.index.model.now - (g.snapshots.length - i) * 7 * 86_400, description: name === 'before-upgrade' ? 'Before the Debian 13 upgrade' : '' };
    if (type === 'qemu') row['vmstate'] = 0;
    if (parent !== undefined) row['parent'] = parent;
    rows.push(row);
    parent = name;
  });
  const current: Row = { name: 'current', description: 'You are here!', digest: digest(`${g.vmid}`) };
  if (parent !== undefined) current['parent'] = parent;
  if (type === 'qemu' && g.status === 'running') current['running'] = 1;
  rows.push(current);
  return rows;
}

function config(ctx: RouteContext, type: 'qemu' | 'lxc'): Row {
  const g = guest(ctx, type);
  const cfg = type === 'qemu' ? ctx.index.qemuConfig(g) : ctx.index.lxcConfig(g);
  const snap = ctx.query['snapshot'];
  if (snap !== undefined) {
    if (!g.snapshots.includes(snap)) throw new ApiError(500, `snapshot '${snap}' does not exist`);
    const at = ctx.index.model.now - 7 * 86_400;
    const snapshot: Row = { ...cfg, snaptime: at, digest: digest(`${g.vmid}:${snap}`) };
    delete snapshot['parent'];
    return snapshot;
  }
  return cfg;
}

function pending(ctx: RouteContext, type: 'qemu' | 'lxc'): Row[] {
  const cfg = config(ctx, type);
  const g = guest(ctx, type);
  const rows: Row[] = Object.entries(cfg)
    .filter(([key]) => key !== 'digest')
    .map(([key, value]) => ({ key, value }));
  if (g.vmid === 100) {
    const memory = rows.find((r) => r['key'] === 'memory');
    if (memory !== undefined) memory['pending'] = ctx.index.old ? 8192 : '8192';
    rows.push({ key: 'net1', pending: `virtio=${mac(g.vmid, 1)},bridge=vmbr1`, delete: 0 });
  }
  return rows;
}

function firewallRules(ctx: RouteContext, type: 'qemu' | 'lxc'): Row[] {
  const g = guest(ctx, type);
  const rules: Row[] = [
    { pos: 0, type: 'in', action: 'ACCEPT', macro: 'SSH', source: '10.0.0.0/24', enable: 1, comment: 'admin network' },
    { pos: 1, type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '443', enable: 1, log: 'nolog' },
    { pos: 2, type: 'in', action: 'DROP', proto: 'tcp', dport: '3306', enable: 0, comment: 'db, disabled' },
    { pos: 3, type: 'group', action: 'management', enable: 1 },
  ];
  return rules.slice(0, 1 + (g.vmid % 4));
}

function agent(ctx: RouteContext, answer: (g: GuestModel) => unknown): unknown {
  const g = guest(ctx, 'qemu');
  if (g.status !== 'running') throw new ApiError(500, `VM ${g.vmid} is not running`);
  if (g.agent === undefined) throw new ApiError(500, 'No QEMU guest agent configured');
  if (g.agent === 'not-running') throw new ApiError(500, 'QEMU guest agent is not running');
  if (g.agent === 'error') {
    return { result: { error: { class: 'GenericError', desc: 'Command has been disabled by the guest agent configuration' } } };
  }
  return { result: answer(g) };
}

const NODE_RRD_STEP: Record<string, number> = { hour: 60, day: 1800, week: 10_800, month: 43_200, year: 604_800, decade: 6_048_000 };

function rrd(ctx: RouteContext, point: (salt: number, max: boolean) => Row): Row[] {
  const step = NODE_RRD_STEP[ctx.query['timeframe'] ?? 'hour'] ?? 60;
  const max = ctx.query['cf'] === 'MAX';
  const end = Math.floor(ctx.index.model.now / step) * step;
  const rows: Row[] = [];
  for (let i = 69; i >= 0; i--) {
    const time = end - i * step;
    // The newest bucket is still being filled: real RRD answers leave its values out.
    rows.push(i === 0 ? { time } : { time, ...point(time / step, max) });
  }
  return rows;
}

function certificateInfo(pem: string, filename: string): Row {
  const cert = new X509Certificate(pem);
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails;
  return {
    filename,
    fingerprint: cert.fingerprint256,
    subject: `/${cert.subject.replace(/\n/g, '/')}`,
    issuer: `/${cert.issuer.replace(/\n/g, '/')}`,
    notbefore: Math.floor(new Date(cert.validFrom).getTime() / 1000),
    notafter: Math.floor(new Date(cert.validTo).getTime() / 1000),
    'public-key-type': key.asymmetricKeyType === 'ec' ? 'id-ecPublicKey' : 'rsaEncryption',
    'public-key-bits': details?.modulusLength ?? (details?.namedCurve === 'prime256v1' ? 256 : 384),
    san: (cert.subjectAltName ?? '').split(', ').filter((s) => s !== '').map((s) => s.replace(/^DNS:/, '').replace(/^IP Address:/, '')),
    pem,
  };
}

function storageContent(ctx: RouteContext, s: StorageModel, nodeName: string): Row[] {
  const { index } = ctx;
  const now = index.model.now;
  const rows: Row[] = [];
  const contents = new Set(s.content.split(','));
  if (contents.has('iso')) {
    rows.push({ volid: `${s.storage}:iso/debian-13.1.0-amd64-netinst.iso`, content: 'iso', format: 'iso', size: 754_974_720, ctime: now - 40 * 86_400 });
    rows.push({ volid: `${s.storage}:iso/virtio-win-0.1.271.iso`, content: 'iso', format: 'iso', size: 753_418_240, ctime: now - 90 * 86_400 });
  }
  if (contents.has('vztmpl')) {
    rows.push({ volid: `${s.storage}:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst`, content: 'vztmpl', format: 'tzst', size: 129_566_425, ctime: now - 30 * 86_400 });
  }
  if (contents.has('snippets')) {
    rows.push({ volid: `${s.storage}:snippets/cloud-init-user.yaml`, content: 'snippets', format: 'snippet', size: 1_204, ctime: now - 12 * 86_400 });
  }
  const guests = s.shared ? index.model.guests : (index.guestsByNode.get(nodeName) ?? []);
  if (contents.has('backup')) {
    for (const g of guests) {
      if (!g.backedUp || (!s.shared && g.vmid % 2 === 0)) continue;
      const ext = g.type === 'qemu' ? 'vma.zst' : 'tar.zst';
      const row: Row = {
        volid: `${s.storage}:backup/vzdump-${g.type}-${g.vmid}-2025_11_24-01_00_0${g.vmid % 10}.${ext}`,
        content: 'backup', format: ext, subtype: g.type, vmid: index.n(g.vmid), size: Math.floor(g.diskGiB * GiB * 0.3),
        ctime: now - 86_400 - g.vmid, notes: g.name,
      };
      if (g.vmid % 13 === 0) row['protected'] = 1;
      if (g.vmid % 3 === 0) row['verification'] = { state: 'ok', upid: `UPID:${g.node}:00001234:00ABCDEF:6740A000:verify:${g.vmid}:root@pam:` };
      rows.push(row);
    }
  }
  if (contents.has('images') || contents.has('rootdir')) {
    for (const g of guests) {
      if (s.shared !== (s.type === 'rbd')) continue;
      const kind = g.type === 'qemu' ? 'images' : 'rootdir';
      if (!contents.has(kind)) continue;
      const prefix = g.template === true ? 'base' : 'vm';
      const size = g.diskGiB * GiB;
      rows.push({ volid: `${s.storage}:${prefix}-${g.vmid}-disk-0`, content: kind, format: 'raw', size, used: Math.floor(size * noise(g.vmid, 21)), vmid: index.n(g.vmid), ctime: now - 200 * 86_400 });
    }
  }
  const contentFilter = ctx.query['content'];
  const vmidFilter = ctx.query['vmid'];
  return rows.filter(
    (r) => (contentFilter === undefined || r['content'] === contentFilter) && (vmidFilter === undefined || String(r['vmid']) === String(Number(vmidFilter))),
  );
}

const SERVICES: [string, string, string][] = [
  ['chrony', 'Chrony NTP daemon', 'running'],
  ['corosync', 'Corosync Cluster Engine', 'running'],
  ['cron', 'Regular background program processing daemon', 'running'],
  ['ksmtuned', 'Kernel Samepage Merging (KSM) Tuning Daemon', 'running'],
  ['postfix', 'Postfix Mail Transport Agent (instance -)', 'running'],
  ['proxmox-firewall', 'Proxmox nftables firewall', 'dead'],
  ['pve-cluster', 'The Proxmox VE cluster filesystem', 'running'],
  ['pve-firewall', 'Proxmox VE firewall', 'running'],
  ['pve-ha-crm', 'PVE Cluster HA Resource Manager Daemon', 'running'],
  ['pve-ha-lrm', 'PVE Local HA Resource Manager Daemon', 'running'],
  ['pvedaemon', 'PVE API Daemon', 'running'],
  ['pvefw-logger', 'Proxmox VE firewall logger', 'running'],
  ['pveproxy', 'PVE API Proxy Server', 'running'],
  ['pvescheduler', 'Proxmox VE scheduler', 'running'],
  ['pvestatd', 'PVE Status Daemon', 'running'],
  ['spiceproxy', 'PVE SPICE Proxy Server', 'running'],
  ['sshd', 'OpenBSD Secure Shell server', 'running'],
  ['syslog', 'System Logging Service', 'running'],
  ['systemd-journald', 'Journal Service', 'running'],
  ['systemd-timesyncd', 'systemd-timesyncd.service', 'unknown'],
];

function syslogLines(n: NodeModel, now: number): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < 300; i++) {
    const t = new Date((now - (300 - i) * 20) * 1000);
    const when = `${t.toISOString().slice(0, 10)}T${t.toISOString().slice(11, 19)}+00:00`;
    const pick = i % 6;
    const text =
      pick === 0 ? `pvedaemon[${2000 + i}]: <root@pam> successful auth for user 'root@pam'`
        : pick === 1 ? `pveproxy[${3000 + i}]: authentication failure; rhost=::ffff:192.0.2.${i % 250} user=admin@pve msg=invalid credentials`
          : pick === 2 ? `pvestatd[1234]: status update time (${(i % 9) / 10 + 0.1} seconds)`
            : pick === 3 ? `systemd[1]: Started session-${i}.scope - Session ${i} of User root.`
              : pick === 4 ? `kernel: vmbr0: port 3(tap100i0) entered forwarding state`
                : `corosync[1100]:   [KNET  ] link: host: 3 link: 0 is down`;
    rows.push({ n: i + 1, t: `${when} ${n.name} ${text}` });
  }
  return rows;
}

function clusterLog(ctx: RouteContext): Row[] {
  const { index } = ctx;
  const rows: Row[] = [];
  const online = index.model.nodes.filter((n) => n.online);
  for (let i = 0; i < 200; i++) {
    const n = online[i % Math.max(1, online.length)];
    if (n === undefined) break;
    const time = index.model.now - i * 45;
    const task: TaskModel | undefined = index.tasks[i % Math.max(1, index.tasks.length)];
    const kind = i % 4;
    const msg = kind === 0 && task !== undefined ? `starting task ${task.upid}`
      : kind === 1 && task !== undefined ? `end task ${task.upid} ${task.status ?? 'OK'}`
        : kind === 2 ? `successful auth for user 'root@pam'`
          : `authentication failure; rhost=::ffff:198.51.100.${i % 250} user=root@pam msg=Authentication failure`;
    rows.push({ uid: `${(0x5f00 + i).toString(16).toUpperCase()}:${i + 1}`, time, severity: kind === 3 ? 'warning' : 'info', node: n.name, pid: 2000 + i, user: 'root@pam', tag: kind === 3 ? 'pveproxy' : 'pvedaemon', msg });
  }
  return rows;
}

function taskFor(ctx: RouteContext): TaskModel | undefined {
  const upid = ctx.params['upid'] ?? '';
  if (!/^UPID:[a-zA-Z0-9][a-zA-Z0-9.-]*:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:[^:\s]+:[^:\s]*:[^:\s]+:$/.test(upid)) {
    throw new ApiError(500, `unable to parse worker upid '${upid}'`);
  }
  const task = ctx.index.tasksByUpid.get(upid);
  return task?.node === ctx.params['node'] ? task : undefined;
}

function haResources(ctx: RouteContext): GuestModel[] {
  return ctx.index.model.guests.filter((g) => g.hastate !== undefined && ctx.index.nodeOnline(g.node));
}

function replicationJobs(ctx: RouteContext): GuestModel[] {
  return ctx.index.model.guests.filter((g) => g.replicateTo !== undefined && ctx.can(`/vms/${g.vmid}`, 'VM.Audit'));
}

function backupExcluded(ctx: RouteContext): GuestModel[] {
  return ctx.index.model.guests.filter((g) => !g.backedUp);
}

export const handlers = new Map<string, Handler>([
  ['/version', (ctx) => ({ ...ctx.index.model.version, ...(ctx.index.old ? {} : { console: 'html5' }) })],
  ['/access/permissions', (ctx) => {
    const path = ctx.query['path'];
    if (path === undefined) return ctx.privileges;
    const privs: Record<string, 1> = {};
    for (const [prefix, set] of Object.entries(ctx.privileges)) {
      if (prefix === '/' || path === prefix || path.startsWith(`${prefix}/`)) Object.assign(privs, set);
    }
    return { [path]: privs };
  }],
  ['/nodes', (ctx) =>
    ctx.index.model.nodes.map((n) => {
      const row: Row = { id: `node/${n.name}`, type: 'node', node: n.name, status: n.online ? 'online' : 'offline', ssl_fingerprint: ctx.certs.fingerprint };
      if (!n.online || !ctx.can(`/nodes/${n.name}`, 'Sys.Audit')) return row;
      const m = ctx.index.nodeMetrics(n);
      return { ...row, level: '', cpu: m.cpu, maxcpu: n.cores, mem: m.mem, maxmem: m.maxmem, disk: ctx.index.n(m.disk), maxdisk: ctx.index.n(m.maxdisk), uptime: m.uptime };
    })],
  ['/cluster/resources', (ctx) => {
    const type = ctx.query['type'];
    const rows: Row[] = [];
    for (const entry of ctx.index.resourceRows) {
      if (type !== undefined && entry.kind !== type) continue;
      if (entry.kind === 'pool' && type === undefined && !ctx.can(entry.auditPath, 'Pool.Audit')) continue;
      if (entry.auditPrivs.length > 0 && !entry.auditPrivs.some((p) => ctx.can(entry.auditPath, p))) continue;
      if (entry.kind === 'node' && !ctx.can(entry.auditPath, 'Sys.Audit')) {
        const { id, node: name, type: t, status } = entry.row;
        rows.push({ id, node: name, type: t, status });
        continue;
      }
      rows.push(entry.row);
    }
    return rows;
  }],
  ['/cluster/status', (ctx) => {
    const nodes = ctx.index.model.nodes;
    const online = nodes.filter((n) => n.online).length;
    return [
      { type: 'cluster', id: 'cluster', name: ctx.index.model.name, nodes: nodes.length, quorate: online * 2 > nodes.length ? 1 : 0, version: nodes.length + 2 },
      ...nodes.map((n) => ({ type: 'node', id: `node/${n.name}`, name: n.name, nodeid: n.nodeid, ip: n.ip, local: n.nodeid === 1 ? 1 : 0, online: n.online ? 1 : 0, level: '' })),
    ];
  }],
  ['/storage', (ctx) =>
    ctx.index.model.storages
      .filter((s) => ctx.can(`/storage/${s.storage}`, 'Datastore.Audit') || ctx.can(`/storage/${s.storage}`, 'Datastore.AllocateSpace'))
      .filter((s) => ctx.query['type'] === undefined || s.type === ctx.query['type'])
      .map((s) => {
        const row: Row = { storage: s.storage, type: s.type, content: s.content, digest: digest(s.storage) };
        if (s.shared) row['shared'] = 1;
        if (s.path !== undefined) row['path'] = s.path;
        if (s.server !== undefined) Object.assign(row, { server: s.server, export: '/export/pve', options: 'vers=4.2' });
        if (s.type === 'lvmthin') Object.assign(row, { thinpool: 'data', vgname: 'pve' });
        if (s.type === 'dir' || s.type === 'nfs') row['prune-backups'] = 'keep-all=1';
        return row;
      })],
  ['/nodes/{node}/storage', (ctx) => {
    const n = node(ctx);
    const content = ctx.query['content']?.split(',');
    return ctx.index.model.storages
      .filter((s) => ctx.index.storageOn(s, n.name))
      .filter((s) => ctx.can(`/storage/${s.storage}`, 'Datastore.Audit') || ctx.can(`/storage/${s.storage}`, 'Datastore.AllocateSpace'))
      .filter((s) => ctx.query['storage'] === undefined || s.storage === ctx.query['storage'])
      .filter((s) => content === undefined || content.some((c) => s.content.split(',').includes(c)))
      .map((s) => {
        const u = ctx.index.storageUsage(s, n.name);
        return {
          storage: s.storage, type: s.type, content: s.content, active: 1, enabled: 1, shared: s.shared ? 1 : 0,
          total: ctx.index.n(u.total), used: ctx.index.n(u.used), avail: ctx.index.n(u.avail), used_fraction: u.used / u.total,
        };
      });
  }],
  ['/nodes/{node}/storage/{storage}/status', (ctx) => {
    const id = ctx.params['storage'] ?? '';
    const s = ctx.index.storages.get(id);
    if (s === undefined || !ctx.index.storageOn(s, ctx.params['node'] ?? '')) throw paramError({ storage: 'No such storage.' });
    const u = ctx.index.storageUsage(s, node(ctx).name);
    return { type: s.type, content: s.content, active: 1, enabled: 1, shared: s.shared ? 1 : 0, total: u.total, used: u.used, avail: u.avail };
  }],
  ['/nodes/{node}/storage/{storage}/content', (ctx) => storageContent(ctx, storageOf(ctx), node(ctx).name)],
  ['/nodes/{node}/status', (ctx) => {
    const n = node(ctx);
    const m = ctx.index.nodeMetrics(n);
    const old = ctx.index.old;
    const load = [noise(n.nodeid, 31), noise(n.nodeid, 32), noise(n.nodeid, 33)].map((x) => (x * n.cores * 0.4).toFixed(2));
    const status: Row = {
      uptime: m.uptime,
      cpu: m.cpu,
      wait: Math.round(noise(n.nodeid, 34) * 200) / 10_000,
      idle: 0,
      loadavg: load,
      kversion: old ? 'Linux 5.15.102-1-pve #1 SMP PVE 5.15.102-1 (2023-03-14T13:48Z)' : 'Linux 6.17.2-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)',
      pveversion: `pve-manager/${ctx.index.model.version.version}/${ctx.index.model.version.repoid.slice(0, 16)}`,
      cpuinfo: { model: 'AMD EPYC 7313P 16-Core Processor', cpus: n.cores, cores: n.cores / 2, sockets: 1, mhz: '3000.000', hvm: '1', user_hz: 100, flags: CPU_FLAGS },
      memory: { total: m.maxmem, used: m.mem, free: m.maxmem - m.mem, available: Math.floor((m.maxmem - m.mem) * 1.1) > m.maxmem ? m.maxmem : Math.floor((m.maxmem - m.mem) * 1.1) },
      swap: { total: 8 * GiB, used: 0, free: 8 * GiB },
      rootfs: { total: m.maxdisk, used: m.disk, free: m.maxdisk - m.disk, avail: m.maxdisk - m.disk - 5 * GiB },
      ksm: { shared: 0 },
    };
    if (!old) {
      status['boot-info'] = { mode: 'efi', secureboot: 0 };
      status['current-kernel'] = { sysname: 'Linux', release: '6.17.2-1-pve', version: '#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)', machine: 'x86_64' };
    }
    return status;
  }],
  ['/nodes/{node}/version', (ctx) => ctx.index.model.version],
  ['/nodes/{node}/time', (ctx) => ({ timezone: 'Europe/Vienna', time: ctx.index.model.now, localtime: ctx.index.model.now + 3600 })],
  ['/nodes/{node}/dns', () => ({ search: 'lab.example', dns1: '10.0.0.1', dns2: '9.9.9.9' })],
  ['/nodes/{node}/network', (ctx) => {
    const n = node(ctx);
    const rows: Row[] = [
      { iface: 'lo', type: 'loopback', method: 'loopback', method6: 'manual', families: ['inet'], autostart: 1, active: 1, priority: 1 },
      { iface: 'eno1', type: 'eth', method: 'manual', method6: 'manual', families: ['inet'], exists: 1, active: 1, priority: 3 },
      { iface: 'eno2', type: 'eth', method: 'manual', method6: 'manual', families: ['inet'], exists: 1, priority: 4, comments: 'spare uplink\n', mtu: '9000' },
      {
        iface: 'vmbr0', type: 'bridge', method: 'static', method6: 'manual', families: ['inet'], autostart: 1, active: 1, priority: 5,
        address: n.ip, netmask: '24', cidr: `${n.ip}/24`, gateway: '10.0.0.1', bridge_ports: 'eno1', bridge_stp: 'off', bridge_fd: '0',
        bridge_vlan_aware: 1, mtu: '1500', comments: 'management and guests\n',
      },
      { iface: 'vmbr0.20', type: 'vlan', method: 'manual', method6: 'manual', families: ['inet'], autostart: 1, active: 1, priority: 6, exists: null, 'vlan-id': '20', 'vlan-raw-device': 'vmbr0' },
    ];
    const type = ctx.query['type'];
    if (type === undefined) return rows;
    return rows.filter((r) => r['type'] === type || (type.startsWith('any_') && r['type'] === 'bridge'));
  }],
  ['/nodes/{node}/disks/list', (ctx) => {
    const n = node(ctx);
    const rows: Row[] = [
      { devpath: '/dev/nvme0n1', type: 'nvme', size: 1_000_204_886_016, model: 'Samsung SSD 980 PRO 1TB', serial: `S5GXNX0W${n.nodeid}12345`, vendor: 'unknown', wwn: 'eui.002538b11150cafe', health: 'PASSED', wearout: 97, gpt: 1, rpm: 0, used: 'LVM', osdid: -1, 'osdid-list': null, by_id_link: `/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0W${n.nodeid}12345` },
      { devpath: '/dev/sda', type: 'ssd', size: 960_197_124_096, model: 'INTEL_SSDSC2KB960G8', serial: `PHYF${n.nodeid}0000960`, vendor: 'ATA     ', wwn: '0x55cd2e41510c0de1', health: 'PASSED', wearout: n.nodeid === 2 ? 4 : 88, gpt: 1, rpm: 0, used: n.zfs ? 'ZFS' : 'partitions', osdid: -1, 'osdid-list': null },
      { devpath: '/dev/sdb', type: 'hdd', size: 4_000_787_030_016, model: 'ST4000NM0035-1V4107', serial: `ZC1${n.nodeid}ABCD`, vendor: 'ATA     ', wwn: '0x5000c500a1b2c3d4', health: n.nodeid === 2 ? 'FAILED' : 'PASSED', wearout: 'N/A', gpt: 0, rpm: 7200, osdid: -1, 'osdid-list': null },
    ];
    return ctx.query['type'] === 'unused' ? rows.filter((r) => r['used'] === undefined) : rows;
  }],
  ['/nodes/{node}/disks/smart', (ctx) => {
    const disk = ctx.query['disk'] ?? '';
    if (disk === '/dev/nvme0n1') {
      return { health: 'PASSED', type: 'text', text: '\nSMART/Health Information (NVMe Log 0x02)\nCritical Warning:                   0x00\nTemperature:                        41 Celsius\nAvailable Spare:                    100%\nPercentage Used:                    3%\nPower On Hours:                     14,512\nUnsafe Shutdowns:                   37\nMedia and Data Integrity Errors:    0\n' };
    }
    if (disk === '/dev/sda' || disk === '/dev/sdb') {
      const failed = disk === '/dev/sdb' && node(ctx).nodeid === 2;
      const health = failed ? 'FAILED' : 'PASSED';
      if (flag(ctx.query['healthonly'])) return { health, type: 'ata' };
      return {
        health, type: 'ata',
        attributes: [
          { id: '  5', name: 'Reallocated_Sector_Ct', value: failed ? 1 : 100, worst: failed ? 1 : 100, threshold: 10, fail: failed ? 'FAILING_NOW' : '-', flags: 'PO--CK', raw: failed ? '4088' : '0', normalized: failed ? 1 : 100 },
          { id: '  9', name: 'Power_On_Hours', value: 73, worst: 73, threshold: 0, fail: '-', flags: '-O--CK', raw: '23917', normalized: 73 },
          { id: '194', name: 'Temperature_Celsius', value: 36, worst: 49, threshold: 0, fail: '-', flags: '-O---K', raw: '36 (0 18 0 0 0)', normalized: 36 },
        ],
      };
    }
    throw new ApiError(500, `no such block device '${disk}'`);
  }],
  ['/nodes/{node}/disks/zfs', (ctx) => {
    const n = node(ctx);
    if (!n.zfs) return [];
    return [{ name: 'rpool', size: 952_103_075_840, alloc: 301_243_006_976, free: 650_860_068_864, frag: 14, dedup: 1, health: 'ONLINE' }];
  }],
  ['/nodes/{node}/services', () =>
    SERVICES.map(([name, desc, state]) => ({
      service: name, name, desc, state,
      'active-state': state === 'running' ? 'active' : state === 'dead' ? 'inactive' : 'unknown',
      'unit-state': state === 'unknown' ? 'not-found' : state === 'dead' ? 'disabled' : 'enabled',
    }))],
  ['/nodes/{node}/tasks', (ctx) => {
    const n = node(ctx);
    const vmid = ctx.query['vmid'];
    const type = ctx.query['typefilter'];
    const user = ctx.query['userfilter'];
    const errorsOnly = flag(ctx.query['errors']);
    const source = ctx.query['source'] ?? 'archive';
    const rows = ctx.index.tasks
      .filter((t) => t.node === n.name)
      .filter((t) => (source === 'active' ? t.status === undefined : source === 'archive' ? t.status !== undefined : true))
      .filter((t) => vmid === undefined || t.id === String(Number(vmid)))
      .filter((t) => type === undefined || t.type === type)
      .filter((t) => user === undefined || t.user.includes(user))
      .filter((t) => !errorsOnly || (t.status !== undefined && t.status !== 'OK'))
      .map((t) => ctx.index.taskRow(t, false));
    return paged(rows, ctx, 50);
  }],
  ['/nodes/{node}/tasks/{upid}/status', (ctx) => {
    const task = taskFor(ctx);
    const upid = ctx.params['upid'] ?? '';
    if (task === undefined) {
      const [, nodeName = '', pid = '0', pstart = '0', start = '0', type = '', id = '', user = ''] = upid.split(':');
      return { upid, node: nodeName, pid: Number.parseInt(pid, 16), pstart: Number.parseInt(pstart, 16), starttime: Number.parseInt(start, 16), type, id, user, status: 'stopped', exitstatus: 'unknown' };
    }
    const row = ctx.index.taskRow(task, false);
    delete row['endtime'];
    row['status'] = task.status === undefined ? 'running' : 'stopped';
    if (task.status !== undefined) row['exitstatus'] = task.status;
    return row;
  }],
  ['/nodes/{node}/tasks/{upid}/log', (ctx) => {
    const task = taskFor(ctx);
    const lines = task === undefined ? ['unable to open file - No such file or directory'] : task.log;
    return paged(lines.map((t, i) => ({ n: i + 1, t })), ctx, 50);
  }],
  ['/cluster/tasks', (ctx) =>
    ctx.index.tasks.filter((t) => ctx.can(`/nodes/${t.node}`, 'Sys.Audit')).slice(0, 1000).map((t) => ctx.index.taskRow(t, true))],
  ['/nodes/{node}/syslog', (ctx) => {
    const rows = syslogLines(node(ctx), ctx.index.model.now);
    const service = ctx.query['service'];
    return paged(service === undefined ? rows : rows.filter((r) => String(r['t']).includes(` ${service}[`)), ctx, 50);
  }],
  ['/cluster/log', (ctx) => clusterLog(ctx).slice(0, int(ctx.query['max'], 50))],
  ['/nodes/{node}/rrddata', (ctx) => {
    const n = node(ctx);
    const m = ctx.index.nodeMetrics(n);
    return rrd(ctx, (salt, max) => {
      const f = (k: number): number => noise(n.nodeid * 7919 + salt, k) * (max ? 1.4 : 1);
      return {
        cpu: Math.min(1, m.cpu * (0.5 + f(1))), iowait: f(2) * 0.02, loadavg: Math.round(f(3) * n.cores * 40) / 100, maxcpu: n.cores,
        memtotal: m.maxmem, memused: Math.min(m.maxmem, Math.floor(m.mem * (0.8 + f(4) * 0.3))), swaptotal: 8 * GiB, swapused: 0,
        roottotal: m.maxdisk, rootused: m.disk, netin: f(5) * 2e6, netout: f(6) * 1e6,
      };
    });
  }],
  ['/nodes/{node}/qemu', (ctx) => guestList(ctx, 'qemu')],
  ['/nodes/{node}/lxc', (ctx) => guestList(ctx, 'lxc')],
  ['/nodes/{node}/qemu/{vmid}/status/current', (ctx) => guestStatus(ctx, 'qemu')],
  ['/nodes/{node}/lxc/{vmid}/status/current', (ctx) => guestStatus(ctx, 'lxc')],
  ['/nodes/{node}/qemu/{vmid}/config', (ctx) => config(ctx, 'qemu')],
  ['/nodes/{node}/lxc/{vmid}/config', (ctx) => config(ctx, 'lxc')],
  ['/nodes/{node}/qemu/{vmid}/pending', (ctx) => pending(ctx, 'qemu')],
  ['/nodes/{node}/lxc/{vmid}/pending', (ctx) => pending(ctx, 'lxc')],
  ['/nodes/{node}/qemu/{vmid}/snapshot', (ctx) => snapshots(ctx, 'qemu')],
  ['/nodes/{node}/lxc/{vmid}/snapshot', (ctx) => snapshots(ctx, 'lxc')],
  ['/nodes/{node}/qemu/{vmid}/firewall/rules', (ctx) => firewallRules(ctx, 'qemu')],
  ['/nodes/{node}/lxc/{vmid}/firewall/rules', (ctx) => firewallRules(ctx, 'lxc')],
  ...(['qemu', 'lxc'] as const).map((type): [string, Handler] => [`/nodes/{node}/${type}/{vmid}/rrddata`, (ctx) => {
    const g = guest(ctx, type);
    const running = ctx.index.guestRunning(g);
    const m = ctx.index.metrics(g);
    return rrd(ctx, (salt, max) => {
      const base: Row = { maxcpu: g.cores, maxmem: g.memoryMiB * MiB, maxdisk: g.diskGiB * GiB, disk: m.disk };
      if (!running) return base;
      const f = (k: number): number => noise(g.vmid * 7919 + salt, k) * (max ? 1.4 : 1);
      return { ...base, cpu: Math.min(1, m.cpu * (0.5 + f(1))), mem: Math.floor(m.mem * (0.8 + f(2) * 0.3)), netin: f(3) * 1e5, netout: f(4) * 5e4, diskread: f(5) * 2e5, diskwrite: f(6) * 1e5 };
    });
  }]),
  ['/nodes/{node}/qemu/{vmid}/agent/get-osinfo', (ctx) => agent(ctx, (g) => ({
    id: 'debian', name: 'Debian GNU/Linux', 'pretty-name': 'Debian GNU/Linux 13 (trixie)', version: '13 (trixie)', 'version-id': '13',
    'kernel-release': '6.12.48+deb13-amd64', 'kernel-version': '#1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20)', machine: 'x86_64',
    ...(g.vmid % 2 === 0 ? {} : { variant: 'server', 'variant-id': 'server' }),
  }))],
  ['/nodes/{node}/qemu/{vmid}/agent/get-fsinfo', (ctx) => agent(ctx, (g) => [
    {
      name: 'sda1', mountpoint: '/', type: 'ext4', 'total-bytes': g.diskGiB * GiB - 512 * MiB, 'used-bytes': Math.floor(g.diskGiB * GiB * noise(g.vmid, 40)),
      disk: [{ 'bus-type': 'scsi', bus: 0, target: 0, unit: 0, serial: `0QEMU_QEMU_HARDDISK_drive-scsi0`, dev: '/dev/sda1', 'pci-controller': { domain: 0, bus: 9, slot: 1, function: 0 } }],
    },
    { name: 'sda15', mountpoint: '/boot/efi', type: 'vfat', 'total-bytes': 129_718_272, 'used-bytes': 12_406_784, disk: [] },
  ])],
  ['/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces', (ctx) => agent(ctx, (g) => [
    { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }, { 'ip-address': '::1', 'ip-address-type': 'ipv6', prefix: 128 }], statistics: { 'rx-bytes': 1_024, 'rx-packets': 12, 'tx-bytes': 1_024, 'tx-packets': 12, 'rx-errs': 0, 'tx-errs': 0, 'rx-dropped': 0, 'tx-dropped': 0 } },
    { name: 'eth0', 'hardware-address': mac(g.vmid, 0).toLowerCase(), 'ip-addresses': [{ 'ip-address': `10.0.${(g.vmid >> 8) & 0xff}.${g.vmid & 0xff}`, 'ip-address-type': 'ipv4', prefix: 24 }, { 'ip-address': `fe80::be24:11ff:fe00:${(g.vmid & 0xffff).toString(16)}`, 'ip-address-type': 'ipv6', prefix: 64 }], statistics: { 'rx-bytes': 5_368_709_120 + g.vmid, 'rx-packets': 4_000_000, 'tx-bytes': 1_073_741_824, 'tx-packets': 2_000_000, 'rx-errs': 0, 'tx-errs': 0, 'rx-dropped': 17, 'tx-dropped': 0 } },
  ])],
  ['/cluster/ha/status/current', (ctx) => {
    const now = ctx.index.model.now;
    const nodes = ctx.index.model.nodes;
    const master = nodes.find((n) => n.online)?.name ?? 'pve1';
    const rows: Row[] = [
      { id: 'quorum', type: 'quorum', node: master, status: 'OK', quorate: 1 },
      { id: 'master', type: 'master', node: master, status: `${master} (active, ${new Date(now * 1000).toUTCString()})`, timestamp: now - 5 },
    ];
    for (const n of nodes) {
      rows.push({ id: `lrm:${n.name}`, type: 'lrm', node: n.name, status: n.online ? `${n.name} (active, ${new Date(now * 1000).toUTCString()})` : `${n.name} (old timestamp - dead?, ${new Date((now - 3600) * 1000).toUTCString()})`, timestamp: n.online ? now - 3 : now - 3600 });
    }
    for (const g of haResources(ctx)) {
      const sid = `${g.type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}`;
      rows.push({ id: `service:${sid}`, type: 'service', sid, node: g.node, state: g.hastate, crm_state: g.hastate, request_state: g.hastate, max_relocate: 1, max_restart: 1, failback: 1, status: `${sid} (${g.node}, ${g.hastate ?? ''})` });
    }
    return rows;
  }],
  ['/cluster/ha/resources', (ctx) => {
    const type = ctx.query['type'];
    return haResources(ctx)
      .filter((g) => type === undefined || (type === 'vm') === (g.type === 'qemu'))
      .map((g) => ({ sid: `${g.type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}`, type: g.type === 'qemu' ? 'vm' : 'ct', state: g.hastate, max_relocate: 1, max_restart: 1, failback: 1, digest: digest(`ha${g.vmid}`) }));
  }],
  ['/cluster/backup', (ctx) => {
    const now = ctx.index.model.now;
    const excluded = backupExcluded(ctx).map((g) => g.vmid).join(',');
    return [
      {
        id: 'backup-5c2b9a1e-7f3d', type: 'vzdump', enabled: 1, schedule: '21:00', storage: 'nfs-backup', mode: 'snapshot', compress: 'zstd',
        all: 1, ...(excluded === '' ? {} : { exclude: excluded }), 'notes-template': '{{guestname}}', 'prune-backups': 'keep-daily=7,keep-weekly=4',
        'mailnotification': 'failure', 'notification-mode': 'auto', 'next-run': now + 3600, 'repeat-missed': 0, fleecing: 'enabled=0',
      },
      { id: 'backup-weekly-prod', type: 'vzdump', enabled: 0, schedule: 'sat 02:00', storage: 'local', mode: 'stop', compress: 'zstd', pool: 'production', comment: 'Weekly offline copy (paused)' },
    ];
  }],
  ['/cluster/backup-info/not-backed-up', (ctx) =>
    backupExcluded(ctx).filter((g) => ctx.can(`/vms/${g.vmid}`, 'VM.Audit')).map((g) => ({ vmid: g.vmid, name: g.name, type: g.type }))],
  ['/cluster/replication', (ctx) =>
    replicationJobs(ctx).map((g) => ({ id: `${g.vmid}-0`, guest: g.vmid, jobnum: 0, target: g.replicateTo, type: 'local', schedule: '*/15', source: g.node }))],
  ['/nodes/{node}/replication', (ctx) => {
    const n = node(ctx);
    const now = ctx.index.model.now;
    const guestFilter = ctx.query['guest'];
    return replicationJobs(ctx)
      .filter((g) => g.node === n.name && (guestFilter === undefined || String(g.vmid) === String(Number(guestFilter))))
      .map((g) => {
        const targetDown = !ctx.index.nodeOnline(g.replicateTo ?? '');
        const row: Row = {
          id: `${g.vmid}-0`, guest: g.vmid, jobnum: 0, target: g.replicateTo, type: 'local', schedule: '*/15', source: g.node, vmtype: g.type,
          last_sync: now - 600, last_try: now - (targetDown ? 60 : 600), next_sync: now + 300, duration: 4.2, fail_count: targetDown ? 3 : 0,
        };
        if (targetDown) row['error'] = `command 'ssh ... ${g.replicateTo ?? ''}' failed: exit code 255`;
        return row;
      });
  }],
  ['/cluster/ceph/status', (ctx) => {
    if (!ctx.index.model.ceph) throw new ApiError(500, 'binary not installed: /usr/bin/ceph-mon');
    const online = ctx.index.model.nodes.filter((n) => n.online).map((n) => n.name);
    const osds = ctx.index.model.nodes.length * 2;
    return {
      fsid: uuid(1, 99), health: { status: online.length === ctx.index.model.nodes.length ? 'HEALTH_OK' : 'HEALTH_WARN', checks: {} },
      quorum_names: online, monmap: { num_mons: ctx.index.model.nodes.length },
      osdmap: { num_osds: osds, num_up_osds: online.length * 2, num_in_osds: osds },
      pgmap: { num_pgs: 129, bytes_total: 24_000 * GiB, bytes_used: 8_880 * GiB, bytes_avail: 15_120 * GiB, pgs_by_state: [{ state_name: 'active+clean', count: 129 }] },
    };
  }],
  ['/pools', (ctx) => {
    const wanted = ctx.query['poolid'];
    const pools = ctx.index.model.pools.filter((p) => ctx.can(`/pool/${p.poolid}`, 'Pool.Audit'));
    if (wanted === undefined) return pools.map((p) => ({ poolid: p.poolid, comment: p.comment }));
    const pool = pools.find((p) => p.poolid === wanted);
    if (pool === undefined) throw new ApiError(500, `pool '${wanted}' does not exist`);
    const type = ctx.query['type'];
    const members: Row[] = ctx.index.model.guests
      .filter((g) => g.pool === pool.poolid && (type === undefined || type === g.type))
      .map((g) => ctx.index.guestResource(g));
    return [{ poolid: pool.poolid, comment: pool.comment, members }];
  }],
  ['/nodes/{node}/apt/update', () => [
    { Package: 'pve-manager', Title: 'Proxmox Virtual Environment Management Tools', Version: '9.1.2', OldVersion: '9.1.1', Arch: 'amd64', Origin: 'Proxmox', Priority: 'important', Section: 'admin', Description: 'The Proxmox Virtual Environment management tools.' },
    { Package: 'proxmox-kernel-6.17', Title: 'Latest Proxmox Kernel Image', Version: '6.17.2-2', OldVersion: '6.17.2-1', Arch: 'all', Origin: 'Proxmox', Priority: 'optional', Section: 'admin', Description: 'Meta package for the latest kernel.' },
    { Package: 'openssl', Title: 'Secure Sockets Layer toolkit', Version: '3.5.4-1~deb13u1', OldVersion: '3.5.1-1', Arch: 'amd64', Origin: 'Debian', Priority: 'optional', Section: 'utils', Description: 'Secure Sockets Layer toolkit - cryptographic utility', NotifyStatus: '3.5.4-1~deb13u1' },
  ]],
  ['/cluster/nextid', (ctx) => {
    const wanted = ctx.query['vmid'];
    if (wanted !== undefined) {
      if (ctx.index.guests.has(Number(wanted))) throw paramError({ vmid: `VM ${wanted} already exists` });
      return wanted;
    }
    let next = 100;
    while (ctx.index.guests.has(next)) next++;
    // Proxmox sends the id as a string.
    return String(next);
  }],
  ['/cluster/options', (ctx) => ({ keyboard: 'en-us', console: 'html5', migration: { type: 'secure' }, 'next-id': { lower: 100 }, description: `Lab cluster ${ctx.index.model.name}` })],
  ['/cluster/config/nodes', (ctx) =>
    ctx.index.model.nodes.map((n) => ({ node: n.name, name: n.name, nodeid: String(n.nodeid), quorum_votes: '1', ring0_addr: n.ip }))],
  ['/cluster/ha/groups', () => [{ group: 'prefer-pve1', type: 'group', nodes: 'pve1:2,pve2:1', restricted: 0, nofailback: 0, digest: digest('ha-group') }]],
  ['/access/users', (ctx) => {
    const users: Row[] = [
      { userid: 'root@pam', enable: 1, expire: 0, firstname: '', lastname: '', email: 'root@lab.example', 'realm-type': 'pam' },
      { userid: 'admin@pve', enable: 1, expire: 0, email: 'admin@lab.example', groups: 'admins', 'realm-type': 'pve' },
      { userid: 'ops@pve', enable: 0, expire: ctx.index.model.now - 86_400, comment: 'left the team', 'realm-type': 'pve' },
    ];
    return users.filter((u) => ctx.can(`/access/users/${String(u['userid'])}`, 'User.Modify') || ctx.can('/access', 'Sys.Audit'));
  }],
  ['/nodes/{node}/netstat', (ctx) =>
    (ctx.index.guestsByNode.get(node(ctx).name) ?? [])
      .filter((g) => g.type === 'qemu' && g.status === 'running')
      .map((g) => ({ vmid: String(g.vmid), dev: `tap${g.vmid}i0`, in: String(ctx.index.metrics(g).netin), out: String(ctx.index.metrics(g).netout) }))],
  ['/nodes/{node}/hosts', (ctx) => {
    const n = node(ctx);
    const data = `127.0.0.1 localhost.localdomain localhost\n${n.ip} ${n.name}.lab.example ${n.name}\n\n::1     ip6-localhost ip6-loopback\n`;
    return { data, digest: digest(data) };
  }],
  ['/nodes/{node}/journal', (ctx) => {
    const lines = syslogLines(node(ctx), ctx.index.model.now).map((r) => String(r['t']));
    const last = int(ctx.query['lastentries'], 500);
    return ['-- cursor: s=0000;i=1', ...lines.slice(-last), '-- cursor: s=0000;i=12c'];
  }],
  ['/nodes/{node}/apt/versions', (ctx) => [
    { Package: 'proxmox-ve', Version: ctx.index.model.version.version, Title: 'Proxmox Virtual Environment', Arch: 'all', Origin: 'Proxmox', Priority: 'optional', Section: 'admin', CurrentState: 'Installed', RunningKernel: '6.17.2-1-pve', ManagerVersion: ctx.index.model.version.version },
    { Package: 'pve-manager', Version: ctx.index.model.version.version, Title: 'Proxmox Virtual Environment Management Tools', Arch: 'amd64', Origin: 'Proxmox', Priority: 'optional', Section: 'admin', CurrentState: 'Installed' },
    { Package: 'qemu-server', Version: '9.0.23', Title: 'Qemu Server Tools', Arch: 'amd64', Origin: 'Proxmox', Priority: 'optional', Section: 'admin', CurrentState: 'Installed' },
    { Package: 'pve-container', Version: '6.0.14', Title: 'Proxmox VE Container management tool', Arch: 'all', Origin: 'Proxmox', Priority: 'optional', Section: 'perl', CurrentState: 'Installed' },
  ]],
  ['/nodes/{node}/disks/lvmthin', () => [{ lv: 'data', vg: 'pve', lv_size: 1_932_735_283_200, used: 874_762_025_274, metadata_size: 16_106_127_360, metadata_used: 402_653_184, lv_state: 'a', lv_type: 't' }]],
  ['/nodes/{node}/lxc/{vmid}/interfaces', (ctx) => {
    const g = guest(ctx, 'lxc');
    if (g.status !== 'running') throw new ApiError(500, `CT ${g.vmid} not running`);
    return [
      { name: 'lo', 'hwaddr': '00:00:00:00:00:00', inet: '127.0.0.1/8', inet6: '::1/128' },
      { name: 'eth0', hwaddr: mac(g.vmid, 0).toLowerCase(), inet: `10.0.${(g.vmid >> 8) & 0xff}.${g.vmid & 0xff}/24` },
    ];
  }],
  ...(['qemu', 'lxc'] as const).map((type): [string, Handler] => [`/nodes/{node}/${type}/{vmid}/firewall/options`, (ctx) => {
    const g = guest(ctx, type);
    return { enable: g.vmid % 2, dhcp: 1, ipfilter: 0, macfilter: 1, ndp: 1, policy_in: 'DROP', policy_out: 'ACCEPT', log_level_in: 'nolog', log_level_out: 'nolog', digest: digest(`fw${g.vmid}`) };
  }]),
  ['/cluster/ha/rules', (ctx) => {
    // Proxmox VE 9 replaced HA groups with rules: node affinity (where a guest prefers to run) and
    // resource affinity (guests kept together or apart).
    const rules: Row[] = [
      { rule: 'prefer-pve1', type: 'node-affinity', resources: 'vm:100,vm:104', nodes: 'pve1:2,pve2:1', strict: 0, order: 1, digest: digest('ha-rule-1') },
      { rule: 'keep-apart', type: 'resource-affinity', resources: 'vm:100,vm:104', affinity: 'negative', comment: 'web and mail on different nodes\n', order: 2, digest: digest('ha-rule-2') },
      { rule: 'old-pin', type: 'node-affinity', resources: 'ct:102', nodes: 'pve2', strict: 1, disable: 1, order: 3, digest: digest('ha-rule-3') },
    ];
    const type = ctx.query['type'];
    const resource = ctx.query['resource'];
    return rules.filter((r) => (type === undefined || r['type'] === type) && (resource === undefined || String(r['resources']).split(',').includes(resource)));
  }],
  ['/cluster/sdn/zones', (ctx) => {
    const zones: Row[] = [
      { zone: 'localnetwork', type: 'simple', ipam: 'pve', digest: digest('zone-local') },
      { zone: 'lab', type: 'simple', ipam: 'pve', dhcp: 'dnsmasq', mtu: '1450', nodes: 'pve1,pve2', digest: digest('zone-lab') },
      { zone: 'vlans', type: 'vlan', bridge: 'vmbr0', ipam: 'pve', pending: { bridge: 'vmbr1' }, state: 'changed', digest: digest('zone-vlans') },
    ];
    const type = ctx.query['type'];
    return zones.filter((z) => (type === undefined || z['type'] === type) && ctx.can(`/sdn/zones/${String(z['zone'])}`, 'SDN.Audit'));
  }],
  ['/cluster/sdn/vnets', (ctx) => [
    { vnet: 'labnet', zone: 'lab', type: 'vnet', alias: 'Lab guests', digest: digest('vnet-lab') },
    { vnet: 'dmz', zone: 'vlans', type: 'vnet', tag: 20, vlanaware: 0, 'isolate-ports': 1, digest: digest('vnet-dmz') },
  ].filter((v) => ctx.can(`/sdn/zones/${v.zone}`, 'SDN.Audit'))],
  ['/cluster/firewall/options', () => ({ enable: 1, policy_in: 'DROP', policy_out: 'ACCEPT', policy_forward: 'ACCEPT', ebtables: 1, log_ratelimit: 'burst=5,enable=1,rate=1/second', digest: digest('cluster-fw') })],
  ['/nodes/{node}/firewall/options', () => ({ enable: 1, log_level_in: 'nolog', log_level_out: 'nolog', nosmurfs: 1, tcpflags: 0, digest: digest('node-fw') })],
  ['/nodes/{node}/certificates/info', (ctx) => [certificateInfo(ctx.certs.caPem, 'pve-root-ca.pem'), certificateInfo(ctx.certs.certPem, 'pve-ssl.pem')]],
]);

/** Answers Proxmox computes without a handler: a directory index of the paths below a template. */
export function directoryIndex(children: string[]): Row[] {
  return children.map((child) => {
    const name = /^\{(.+)\}$/.exec(child)?.[1];
    return name === undefined ? { subdir: child } : {};
  }).filter((row) => Object.keys(row).length > 0);
}
