// Answers derived from a cluster model: the index built once per server, and the row shapes each
// endpoint returns (including the quirks of older releases).
import { createHash } from 'node:crypto';
import type { ClusterModel, GuestModel, NodeModel, StorageModel } from './cluster.js';
import { noise } from './cluster.js';

export type Row = Record<string, unknown>;

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export interface TaskModel {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  endtime?: number;
  type: string;
  id: string;
  user: string;
  /** Absent while running. */
  status?: string;
  log: string[];
}

export function hex(value: number, width: number): string {
  return value.toString(16).toUpperCase().padStart(width, '0');
}

export function digest(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function mac(vmid: number, index: number): string {
  const n = (vmid * 7 + index) & 0xffffff;
  return `BC:24:11:${hex(n >> 16, 2)}:${hex((n >> 8) & 0xff, 2)}:${hex(n & 0xff, 2)}`;
}

function uuid(seed: number, salt: number): string {
  const h = createHash('sha256').update(`${seed}:${salt}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class ClusterIndex {
  readonly nodes = new Map<string, NodeModel>();
  readonly guests = new Map<number, GuestModel>();
  readonly guestsByNode = new Map<string, GuestModel[]>();
  readonly storages = new Map<string, StorageModel>();
  readonly tasks: TaskModel[] = [];
  readonly tasksByUpid = new Map<string, TaskModel>();
  /** `/cluster/resources` rows, built once: only permission filtering happens per request. */
  readonly resourceRows: { row: Row; kind: string; auditPath: string; auditPrivs: string[] }[] = [];

  constructor(readonly model: ClusterModel) {
    for (const node of model.nodes) {
      this.nodes.set(node.name, node);
      this.guestsByNode.set(node.name, []);
    }
    for (const guest of model.guests) {
      this.guests.set(guest.vmid, guest);
      this.guestsByNode.get(guest.node)?.push(guest);
    }
    for (const storage of model.storages) this.storages.set(storage.storage, storage);
    this.buildTasks();
    this.buildResources();
  }

  get old(): boolean {
    return this.model.oldRelease;
  }

  /** Numbers older releases send as strings in lists. */
  n(value: number): number | string {
    return this.old ? String(value) : value;
  }

  nodeOnline(name: string): boolean {
    return this.nodes.get(name)?.online === true;
  }

  guestRunning(guest: GuestModel): boolean {
    return guest.status === 'running' && this.nodeOnline(guest.node);
  }

  metrics(guest: GuestModel): { cpu: number; mem: number; disk: number; uptime: number; pid: number; netin: number; netout: number; diskread: number; diskwrite: number } {
    const v = guest.vmid;
    const maxmem = guest.memoryMiB * MiB;
    return {
      cpu: Math.round(noise(v, 1) * 0.6 * 10_000) / 10_000,
      mem: Math.floor(maxmem * (0.2 + 0.6 * noise(v, 2))),
      disk: guest.type === 'lxc' ? Math.floor(guest.diskGiB * GiB * (0.1 + 0.5 * noise(v, 3))) : 0,
      uptime: 3600 + Math.floor(noise(v, 4) * 90 * 86_400),
      pid: 1000 + Math.floor(noise(v, 5) * 900_000),
      // Long-running guests pass 2^32 bytes: clients must not assume 32-bit counters.
      netin: Math.floor(noise(v, 6) * 8e10),
      netout: Math.floor(noise(v, 7) * 3e10),
      diskread: Math.floor(noise(v, 8) * 6e10),
      diskwrite: Math.floor(noise(v, 9) * 4e10),
    };
  }

  nodeMetrics(node: NodeModel): { cpu: number; mem: number; maxmem: number; disk: number; maxdisk: number; uptime: number } {
    const s = node.nodeid * 1000;
    const maxmem = node.memGiB * GiB;
    return {
      cpu: Math.round((0.05 + noise(s, 1) * 0.5) * 10_000) / 10_000,
      mem: Math.floor(maxmem * (0.3 + 0.4 * noise(s, 2))),
      maxmem,
      disk: Math.floor(node.rootGiB * GiB * (0.1 + 0.3 * noise(s, 3))),
      maxdisk: node.rootGiB * GiB,
      uptime: 86_400 + Math.floor(noise(s, 4) * 200 * 86_400),
    };
  }

  /** Guest row of `/cluster/resources` (and pool members). */
  guestResource(guest: GuestModel): Row {
    const online = this.nodeOnline(guest.node);
    const row: Row = {
      id: `${guest.type}/${guest.vmid}`,
      type: guest.type,
      vmid: this.n(guest.vmid),
      name: guest.name,
      node: guest.node,
      status: online ? guest.status : 'unknown',
      template: guest.template === true ? 1 : this.old ? '' : 0,
    };
    if (online) {
      row['maxcpu'] = guest.cores;
      row['maxmem'] = guest.memoryMiB * MiB;
      row['maxdisk'] = this.n(guest.diskGiB * GiB);
      if (guest.status === 'running') {
        const m = this.metrics(guest);
        Object.assign(row, {
          cpu: m.cpu, mem: m.mem, disk: this.n(m.disk), uptime: m.uptime,
          netin: m.netin, netout: m.netout, diskread: m.diskread, diskwrite: m.diskwrite,
        });
        if (!this.old && guest.type === 'qemu') row['memhost'] = m.mem + 48 * MiB;
      }
    }
    if (guest.tags !== undefined) row['tags'] = guest.tags;
    if (guest.lock !== undefined) row['lock'] = guest.lock;
    if (guest.hastate !== undefined) row['hastate'] = guest.hastate;
    if (guest.pool !== undefined) row['pool'] = guest.pool;
    return row;
  }

  nodeResource(node: NodeModel): Row {
    const row: Row = { id: `node/${node.name}`, type: 'node', node: node.name, status: node.online ? 'online' : 'offline', 'cgroup-mode': 2 };
    if (!node.online) return row;
    const m = this.nodeMetrics(node);
    return { ...row, cpu: m.cpu, maxcpu: node.cores, mem: m.mem, maxmem: m.maxmem, disk: this.n(m.disk), maxdisk: this.n(m.maxdisk), uptime: m.uptime, level: '' };
  }

  storageOn(storage: StorageModel, node: string): boolean {
    return storage.nodes === undefined || storage.nodes.includes(node);
  }

  storageUsage(storage: StorageModel, node: string): { total: number; used: number; avail: number } {
    const total = storage.totalGiB * GiB;
    const salt = storage.shared ? 0 : (this.nodes.get(node)?.nodeid ?? 0);
    const used = Math.floor(total * Math.min(0.98, storage.usedFraction + (noise(salt, storage.storage.length) - 0.5) * 0.1));
    return { total, used, avail: total - used };
  }

  storageResource(storage: StorageModel, node: NodeModel): Row {
    const row: Row = {
      id: `storage/${node.name}/${storage.storage}`,
      type: 'storage',
      storage: storage.storage,
      node: node.name,
      plugintype: storage.type,
      content: storage.content,
      shared: storage.shared ? 1 : 0,
      status: node.online ? 'available' : 'unknown',
    };
    if (node.online) {
      const u = this.storageUsage(storage, node.name);
      row['disk'] = this.n(u.used);
      row['maxdisk'] = this.n(u.total);
    }
    return row;
  }

  private buildResources(): void {
    for (const node of this.model.nodes) {
      this.resourceRows.push({ row: this.nodeResource(node), kind: 'node', auditPath: `/nodes/${node.name}`, auditPrivs: [] });
    }
    for (const guest of this.model.guests) {
      this.resourceRows.push({ row: this.guestResource(guest), kind: 'vm', auditPath: `/vms/${guest.vmid}`, auditPrivs: ['VM.Audit'] });
    }
    for (const node of this.model.nodes) {
      for (const storage of this.model.storages) {
        if (!this.storageOn(storage, node.name)) continue;
        this.resourceRows.push({
          row: this.storageResource(storage, node),
          kind: 'storage',
          auditPath: `/storage/${storage.storage}`,
          auditPrivs: ['Datastore.Audit', 'Datastore.AllocateSpace'],
        });
      }
      this.resourceRows.push({
        row: { id: `sdn/${node.name}/localnetwork`, type: 'sdn', sdn: 'localnetwork', node: node.name, status: node.online ? 'ok' : 'unknown' },
        kind: 'sdn',
        auditPath: '/sdn/zones/localnetwork',
        auditPrivs: ['SDN.Audit'],
      });
    }
    for (const pool of this.model.pools) {
      this.resourceRows.push({ row: { id: `/pool/${pool.poolid}`, type: 'pool', pool: pool.poolid }, kind: 'pool', auditPath: `/pool/${pool.poolid}`, auditPrivs: ['Pool.Audit'] });
    }
  }

  private addTask(task: TaskModel): void {
    this.tasks.push(task);
    this.tasksByUpid.set(task.upid, task);
  }

  private buildTasks(): void {
    const now = this.model.now;
    const users = ['root@pam', 'admin@pve', 'root@pam!automation'];
    for (const node of this.model.nodes) {
      const guests = this.guestsByNode.get(node.name) ?? [];
      const pstartBase = 1_000_000 + node.nodeid * 1000;
      let k = 0;
      const make = (type: string, id: string, ageSec: number, durationSec: number | undefined, status: string | undefined, log: string[]): void => {
        k++;
        const pid = 10_000 + node.nodeid * 100 + k;
        const pstart = pstartBase + k * 37;
        const starttime = now - ageSec;
        const user = users[(node.nodeid + k) % users.length] ?? 'root@pam';
        const upid = `UPID:${node.name}:${hex(pid, 8)}:${hex(pstart, 8)}:${hex(starttime, 8)}:${type}:${id}:${user}:`;
        const task: TaskModel = { upid, node: node.name, pid, pstart, starttime, type, id, user, log };
        if (durationSec !== undefined) task.endtime = starttime + durationSec;
        if (status !== undefined) task.status = status;
        this.addTask(task);
      };
      const first = guests[0];
      const second = guests[1];
      if (first !== undefined) {
        make('vzdump', String(first.vmid), 30_000, 75, 'OK', vzdumpLog(first, true));
        make(first.type === 'qemu' ? 'qmstart' : 'vzstart', String(first.vmid), 20_000, 3, 'OK', ['TASK OK']);
      }
      if (second !== undefined) {
        make('vzdump', String(second.vmid), 29_000, 12, 'job errors', vzdumpLog(second, false));
        make(second.type === 'qemu' ? 'qmstop' : 'vzshutdown', String(second.vmid), 10_000, 5, 'OK', ['TASK OK']);
      }
      make('aptupdate', '', 40_000, 20, 'OK', aptLog(node.name));
      make('vncproxy', first === undefined ? '' : String(first.vmid), 5_000, 600, 'OK', ['connection timed out', 'TASK OK']);
      make('srvreload', 'networking', 3_000, 1, 'command \'ifreload -a\' failed: exit code 1', ['error: vmbr1: bridge port eno3 does not exist', "TASK ERROR: command 'ifreload -a' failed: exit code 1"]);
      if (node.nodeid === 1) make('vzdump', '', 60, undefined, undefined, ['INFO: starting new backup job: vzdump --all 1 --mode snapshot --storage nfs-backup']);
    }
    this.tasks.sort((a, b) => b.starttime - a.starttime);
  }

  /** Rows of `/nodes/{node}/tasks` and `/cluster/tasks`. */
  taskRow(task: TaskModel, saved: boolean): Row {
    const row: Row = {
      upid: task.upid, node: task.node, pid: this.n(task.pid), pstart: task.pstart, starttime: task.starttime,
      type: task.type, id: task.id, user: task.user,
    };
    if (task.endtime !== undefined) row['endtime'] = task.endtime;
    if (task.status !== undefined) row['status'] = task.status;
    if (saved) row['saved'] = '1';
    return row;
  }

  qemuConfig(guest: GuestModel): Row {
    const v = guest.vmid;
    const config: Row = {
      boot: 'order=scsi0;ide2;net0',
      cores: guest.cores,
      sockets: 1,
      cpu: 'x86-64-v2-AES',
      // From 8.1 on the configured memory comes back as a string.
      memory: this.old ? guest.memoryMiB : String(guest.memoryMiB),
      name: guest.name,
      net0: `virtio=${mac(v, 0)},bridge=vmbr0,firewall=1`,
      numa: 0,
      ostype: 'l26',
      ide2: 'none,media=cdrom',
      scsi0: `local-lvm:${guest.template === true ? 'base' : 'vm'}-${v}-disk-0,iothread=1,size=${guest.diskGiB}G`,
      scsihw: 'virtio-scsi-single',
      smbios1: `uuid=${uuid(v, 1)}`,
      vmgenid: uuid(v, 2),
      onboot: guest.status === 'running' ? 1 : 0,
    };
    if (!this.old) config['meta'] = 'creation-qemu=9.2.0,ctime=1735689600';
    if (guest.agent !== undefined) config['agent'] = '1,fstrim_cloned_disks=1';
    if (guest.tags !== undefined) config['tags'] = guest.tags;
    if (guest.lock !== undefined) config['lock'] = guest.lock;
    if (guest.template === true) config['template'] = 1;
    if (guest.description !== undefined) config['description'] = guest.description;
    if (guest.snapshots.length > 0) config['parent'] = guest.snapshots[guest.snapshots.length - 1];
    Object.assign(config, guest.config);
    config['digest'] = digest(JSON.stringify(config));
    return config;
  }

  lxcConfig(guest: GuestModel): Row {
    const v = guest.vmid;
    const config: Row = {
      arch: 'amd64',
      cores: guest.cores,
      hostname: guest.name,
      memory: guest.memoryMiB,
      swap: 512,
      net0: `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${mac(v, 0)},ip=dhcp,ip6=auto,type=veth`,
      ostype: 'debian',
      rootfs: `local-lvm:${guest.template === true ? 'base' : 'vm'}-${v}-disk-0,size=${guest.diskGiB}G`,
      unprivileged: 1,
      features: 'nesting=1',
      onboot: guest.status === 'running' ? 1 : 0,
    };
    if (guest.tags !== undefined) config['tags'] = guest.tags;
    if (guest.lock !== undefined) config['lock'] = guest.lock;
    if (guest.template === true) config['template'] = 1;
    if (guest.description !== undefined) config['description'] = guest.description;
    if (guest.snapshots.length > 0) config['parent'] = guest.snapshots[guest.snapshots.length - 1];
    Object.assign(config, guest.config);
    config['digest'] = digest(JSON.stringify(config));
    return config;
  }
}

function stamp(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

function vzdumpLog(guest: GuestModel, ok: boolean): string[] {
  const kind = guest.type === 'qemu' ? 'qemu' : 'lxc';
  const lines = [
    `INFO: starting new backup job: vzdump ${guest.vmid} --storage nfs-backup --mode snapshot --compress zstd --notes-template '{{guestname}}'`,
    `INFO: Starting Backup of VM ${guest.vmid} (${kind})`,
    `INFO: Backup started at ${stamp(1_764_000_000)}`,
    `INFO: status = ${guest.status}`,
    `INFO: VM Name: ${guest.name}`,
  ];
  if (!ok) {
    lines.push(`ERROR: Backup of VM ${guest.vmid} failed - unable to open '/mnt/pve/nfs-backup/dump/vzdump-${kind}-${guest.vmid}.tmp': Stale file handle`);
    lines.push('INFO: Failed at 2025-11-24 17:20:12', 'INFO: Backup job finished with errors', 'TASK ERROR: job errors');
    return lines;
  }
  lines.push(`INFO: creating vzdump archive '/mnt/pve/nfs-backup/dump/vzdump-${kind}-${guest.vmid}-2025_11_24-17_20_00.vma.zst'`);
  for (let p = 10; p <= 100; p += 10) lines.push(`INFO: ${String(p).padStart(3)}% (${p * 320} MiB of 32.0 GiB) in ${p / 2}s, read: 640.0 MiB/s, write: 512.0 MiB/s`);
  lines.push(`INFO: Finished Backup of VM ${guest.vmid} (00:01:15)`, 'INFO: Backup finished at 2025-11-24 17:21:15', 'INFO: Backup job finished successfully', 'TASK OK');
  return lines;
}

function aptLog(node: string): string[] {
  const lines = ['starting apt-get update'];
  const repos = ['http://deb.debian.org/debian trixie', 'http://security.debian.org/debian-security trixie-security', 'http://download.proxmox.com/debian/pve trixie'];
  for (let i = 0; i < 120; i++) {
    const repo = repos[i % repos.length] ?? '';
    lines.push(`${i % 4 === 0 ? 'Hit' : 'Get'}:${i + 1} ${repo} InRelease [${(i * 37) % 997} kB]`);
  }
  lines.push(`Reading package lists... on ${node}`, 'TASK OK');
  return lines;
}

export { GiB, MiB, mac, uuid };
