// The backup server a fake PBS answers about: datastores with namespaces, groups and snapshots,
// jobs, tasks with logs, remotes. Plain data, fixed timestamps, so answers are reproducible.

export interface SnapshotModel {
  time: number;
  size: number;
  verification?: 'ok' | 'failed';
  protected: boolean;
  comment?: string;
  files: string[];
}

export interface GroupModel {
  type: 'vm' | 'ct' | 'host';
  id: string;
  ns: string;
  owner: string;
  comment?: string;
  snapshots: SnapshotModel[];
}

export interface GcModel {
  schedule?: string;
  lastRunEnd?: number;
  lastRunState?: string;
  nextRun?: number;
  duration?: number;
  removedBytes: number;
  pendingBytes: number;
  diskBytes: number;
  indexDataBytes: number;
  diskChunks: number;
}

export interface DatastoreModel {
  store: string;
  comment?: string;
  total: number;
  used: number;
  /** Unix time the datastore is estimated to be full; absent while usage does not grow. */
  estimatedFull?: number;
  mount: 'mounted' | 'notmounted' | 'nonremovable';
  namespaces: { ns: string; comment?: string }[];
  groups: GroupModel[];
  gc: GcModel;
}

export interface JobModel {
  kind: 'prune' | 'verify' | 'sync' | 'tape';
  id: string;
  store: string;
  schedule: string;
  lastRunEnd?: number;
  lastRunState?: string;
  nextRun?: number;
  comment?: string;
  /** Other fields as PBS lists them (keep-*, remote, pool, drive, ...). */
  extra: Record<string, unknown>;
}

export interface TaskModel {
  upid: string;
  type: string;
  id?: string;
  user: string;
  start: number;
  end?: number;
  status?: string;
  store?: string;
  log: string[];
}

export interface RemoteModel {
  name: string;
  host: string;
  port?: number;
  authId: string;
  comment?: string;
  fingerprint: string;
}

export interface PbsModel {
  node: string;
  version: { version: string; release: string; repoid: string };
  datastores: DatastoreModel[];
  jobs: JobModel[];
  tasks: TaskModel[];
  remotes: RemoteModel[];
}

const DAY = 86_400;
const NOW = 1_780_000_000; // June 2026
const GiB = 1024 ** 3;

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

export function upid(node: string, n: number, start: number, type: string, id: string, user: string): string {
  const wid = id.replace(/:/g, '\\x3a');
  return `UPID:${node}:${hex(1000 + n, 8)}:${hex(500_000 + n, 8)}:${hex(n, 8)}:${hex(start, 8)}:${type}:${wid}:${user}:`;
}

function snapshots(count: number, from: number, size: number, failedAt?: number): SnapshotModel[] {
  return Array.from({ length: count }, (_, i) => {
    const snap: SnapshotModel = {
      time: from - i * DAY,
      size: size + i * 7_340_032,
      protected: i === count - 1,
      files: ['index.json.blob', 'drive-scsi0.img.fidx', 'qemu-server.conf.blob', 'client.log.blob'],
    };
    if (i === failedAt) snap.verification = 'failed';
    else if (i < count - 1) snap.verification = 'ok';
    if (i === 0) snap.comment = 'nightly';
    return snap;
  });
}

export function makePbs(): PbsModel {
  const node = 'pbs1';
  const user = 'backup@pbs';
  const tasks: TaskModel[] = [];
  const task = (type: string, id: string, start: number, seconds: number | undefined, status: string | undefined, store: string | undefined, log: string[]): void => {
    const t: TaskModel = { upid: upid(node, tasks.length + 1, start, type, id, 'root@pam'), type, id, user: 'root@pam', start, log };
    if (seconds !== undefined) t.end = start + seconds;
    if (status !== undefined) t.status = status;
    if (store !== undefined) t.store = store;
    tasks.push(t);
  };
  task('garbage_collection', 'store1', NOW - 2 * 3600, 840, 'OK', 'store1', ['starting garbage collection on store store1', 'Removed garbage: 12.4 GiB', 'TASK OK']);
  task('verificationjob', 'store1:v-nightly', NOW - 5 * 3600, 3600, 'TASK ERROR: verification failed - please check the log for details', 'store1', [
    'Starting datastore verification job \'store1:v-nightly\'',
    'verify store1:vm/101/2026-06-20T02:00:00Z',
    'can\'t verify chunk, load failed - store \'store1\', unable to load chunk \'0a1b\u202e\'',
    'TASK ERROR: verification failed - please check the log for details',
  ]);
  task('prunejob', 'store1:p-daily', NOW - 6 * 3600, 12, 'OK', 'store1', ['prune job started', 'TASK OK']);
  task('backup', 'store1:vm/100', NOW - 7 * 3600, 300, 'OK', 'store1', ['starting backup of vm/100', 'TASK OK']);
  task('syncjob', 'offsite:s-offsite', NOW - 600, undefined, undefined, 'offsite', ['sync job started', 'sync group vm/100']);

  return {
    node,
    version: { version: '4.0.14', release: '4.0', repoid: 'c1d5e2f3' },
    datastores: [
      {
        store: 'store1',
        comment: 'main datastore',
        total: 4000 * GiB,
        used: 3100 * GiB,
        estimatedFull: NOW + 42 * DAY,
        mount: 'nonremovable',
        namespaces: [
          { ns: 'prod', comment: 'production' },
          { ns: 'prod/db' },
          { ns: 'test' },
        ],
        groups: [
          { type: 'vm', id: '100', ns: '', owner: user, comment: 'web-01', snapshots: snapshots(4, NOW - 7 * 3600, 32 * GiB) },
          { type: 'vm', id: '101', ns: '', owner: user, comment: 'db-01', snapshots: snapshots(3, NOW - 8 * 3600, 64 * GiB, 1) },
          { type: 'ct', id: '200', ns: '', owner: 'root@pam', snapshots: snapshots(2, NOW - 9 * 3600, 2 * GiB) },
          { type: 'host', id: 'fileserver', ns: '', owner: user, snapshots: snapshots(2, NOW - 10 * 3600, 120 * GiB) },
          { type: 'vm', id: '300', ns: 'prod/db', owner: user, comment: 'pg-primary', snapshots: snapshots(2, NOW - 11 * 3600, 80 * GiB) },
        ],
        gc: {
          schedule: 'daily',
          lastRunEnd: NOW - 2 * 3600 + 840,
          lastRunState: 'ok',
          nextRun: NOW + 22 * 3600,
          duration: 840,
          removedBytes: Math.round(12.4 * GiB),
          pendingBytes: 3 * GiB,
          diskBytes: 2900 * GiB,
          indexDataBytes: 9800 * GiB,
          diskChunks: 1_450_000,
        },
      },
      {
        store: 'offsite',
        total: 8000 * GiB,
        used: 1200 * GiB,
        mount: 'mounted',
        namespaces: [],
        groups: [{ type: 'vm', id: '100', ns: '', owner: 'sync@pbs', snapshots: snapshots(2, NOW - 30 * 3600, 32 * GiB) }],
        gc: { removedBytes: 0, pendingBytes: 0, diskBytes: 1100 * GiB, indexDataBytes: 2000 * GiB, diskChunks: 400_000 },
      },
    ],
    jobs: [
      { kind: 'prune', id: 'p-daily', store: 'store1', schedule: 'daily', lastRunEnd: NOW - 6 * 3600 + 12, lastRunState: 'ok', nextRun: NOW + 18 * 3600, extra: { 'keep-daily': 7, 'keep-weekly': 4, 'keep-monthly': 6 } },
      { kind: 'verify', id: 'v-nightly', store: 'store1', schedule: 'daily', lastRunEnd: NOW - 4 * 3600, lastRunState: 'verification failed - please check the log for details', nextRun: NOW + 19 * 3600, extra: { 'ignore-verified': true, 'outdated-after': 30 } },
      { kind: 'sync', id: 's-offsite', store: 'offsite', schedule: 'hourly', lastRunEnd: NOW - 3600, lastRunState: 'ok', nextRun: NOW + 1800, comment: 'copy to offsite', extra: { remote: 'pbs-dr', 'remote-store': 'dr', 'sync-direction': 'pull', 'remove-vanished': false, owner: 'sync@pbs' } },
      { kind: 'tape', id: 't-weekly', store: 'store1', schedule: 'sat 02:00', lastRunEnd: NOW - 3 * DAY, lastRunState: 'ok', nextRun: NOW + 4 * DAY, extra: { pool: 'weekly', drive: 'lto9', 'eject-media': true } },
    ],
    tasks,
    remotes: [{ name: 'pbs-dr', host: 'dr.example.net', port: 8007, authId: 'sync@pbs', comment: 'disaster recovery site', fingerprint: '6b:0e:ff:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:11' }],
  };
}
