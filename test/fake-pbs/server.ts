// An HTTPS server that answers like a Proxmox Backup Server API (proxmox-backup-proxy on port 8007):
// `{"data": ...}` envelopes, `PBSAPIToken=ID:SECRET` tokens, errors as plain text under a JSON content
// type (BEHAVIOUR.md), lists that leave out what the token may not see. Every request is validated
// against the PBS pin and recorded.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { fileURLToPath } from 'node:url';
import { getCertificates } from '../fake-proxmox/certs.js';
import { listenTls } from '../fake-proxmox/listen.js';
import type { FakeProxmox, FakeToken, RecordedRequest } from '../fake-proxmox/server.js';
import { SpecIndex, validateParams } from '../fake-proxmox/spec.js';
import { makePbs, type DatastoreModel, type GroupModel, type JobModel, type PbsModel, type TaskModel } from './model.js';

/** Privileges of PBS's built-in Audit role, and of DatastoreAudit. */
export const PBS_AUDIT: Record<string, 1> = { 'Sys.Audit': 1, 'Datastore.Audit': 1, 'Remote.Audit': 1, 'Tape.Audit': 1 };
export const DATASTORE_AUDIT: Record<string, 1> = { 'Datastore.Audit': 1 };

export function pbsToken(id = 'mcp@pbs!reader', privileges: Record<string, Record<string, 1>> = { '/': { ...PBS_AUDIT } }): FakeToken {
  return { id, secret: randomUUID(), privileges };
}

export type PbsFault = { kind: 'status'; status: number; body: string } | { kind: 'slow'; ms: number };

export interface FakePbsOptions {
  model?: PbsModel;
  /** Accepted tokens; the first is the one `tokenId`/`tokenSecret` describe. Default: one Audit token on /. */
  tokens?: FakeToken[];
  specPath?: string;
}

/** The same surface as the fake Proxmox VE, so the same helpers start a server against either. */
export type FakePbs = FakeProxmox;

const BASE = '/api2/json';
const DEFAULT_SPEC = fileURLToPath(new URL('../../spec/proxmox-backup.openapi.json', import.meta.url));
const TOKEN_ID = /^[^\s:/]+@[A-Za-z0-9_][A-Za-z0-9._-]*![A-Za-z0-9_][A-Za-z0-9._-]*$/;

class PbsError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  body: string;
}

interface Context {
  model: PbsModel;
  params: Record<string, string>;
  query: Record<string, string>;
  can: (path: string, privilege: string) => boolean;
  /** The token's own ACL, for /access/permissions. */
  privileges: Record<string, Record<string, 1>>;
}

type Handler = (ctx: Context) => unknown;

/** A result with attributes beside `data` (`total`, `active`). */
class Envelope {
  constructor(
    readonly data: unknown,
    readonly extra: Record<string, unknown>,
  ) {}
}

const flag = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes|on)$/i.test(v);

function datastore(ctx: Context): DatastoreModel {
  const name = ctx.params.store ?? '';
  // Handlers check the datastore privilege themselves (their schema says `user: all`).
  if (!ctx.can(`/datastore/${name}`, 'Datastore.Audit') && !ctx.can(`/datastore/${name}`, 'Datastore.Backup')) {
    throw new PbsError(403, 'permission check failed');
  }
  const store = ctx.model.datastores.find((d) => d.store === name);
  if (store === undefined) throw new PbsError(400, `no such datastore '${name}'`);
  return store;
}

const visibleStores = (ctx: Context): DatastoreModel[] => ctx.model.datastores.filter((d) => ctx.can(`/datastore/${d.store}`, 'Datastore.Audit'));

function gcStatus(d: DatastoreModel): Record<string, unknown> {
  const g = d.gc;
  const out: Record<string, unknown> = {
    store: d.store,
    'disk-bytes': g.diskBytes,
    'disk-chunks': g.diskChunks,
    'index-data-bytes': g.indexDataBytes,
    'index-file-count': d.groups.reduce((n, gr) => n + gr.snapshots.length, 0),
    'pending-bytes': g.pendingBytes,
    'pending-chunks': 0,
    'removed-bad': 0,
    'removed-bytes': g.removedBytes,
    'removed-chunks': 0,
    'still-bad': 0,
  };
  if (g.schedule !== undefined) out.schedule = g.schedule;
  if (g.lastRunEnd !== undefined) out['last-run-endtime'] = g.lastRunEnd;
  if (g.lastRunState !== undefined) out['last-run-state'] = g.lastRunState;
  if (g.nextRun !== undefined) out['next-run'] = g.nextRun;
  if (g.duration !== undefined) out.duration = g.duration;
  return out;
}

function inNamespace(ctx: Context, group: GroupModel): boolean {
  return group.ns === (ctx.query.ns ?? '');
}

function job(j: JobModel): Record<string, unknown> {
  const out: Record<string, unknown> = { id: j.id, store: j.store, schedule: j.schedule, ...j.extra };
  if (j.lastRunEnd !== undefined) out['last-run-endtime'] = j.lastRunEnd;
  if (j.lastRunState !== undefined) out['last-run-state'] = j.lastRunState;
  if (j.nextRun !== undefined) out['next-run'] = j.nextRun;
  if (j.comment !== undefined) out.comment = j.comment;
  return out;
}

function jobs(kind: JobModel['kind']): Handler {
  return (ctx) =>
    ctx.model.jobs
      .filter((j) => j.kind === kind && (ctx.query.store === undefined || j.store === ctx.query.store))
      .filter((j) => (kind === 'tape' ? ctx.can(`/tape/job/${j.id}`, 'Tape.Audit') : ctx.can(`/datastore/${j.store}`, 'Datastore.Audit')))
      .filter((j) => kind !== 'sync' || (ctx.query['sync-direction'] ?? 'pull') === 'all' || j.extra['sync-direction'] === (ctx.query['sync-direction'] ?? 'pull'))
      .map(job);
}

function task(ctx: Context): TaskModel {
  const t = ctx.model.tasks.find((x) => x.upid === ctx.params.upid);
  if (t === undefined) throw new PbsError(400, 'no such task');
  // Another user's task needs Sys.Audit on /system/tasks.
  if (!ctx.can('/system/tasks', 'Sys.Audit')) throw new PbsError(403, 'permission check failed');
  return t;
}

function taskRow(model: PbsModel, t: TaskModel): Record<string, unknown> {
  const parts = t.upid.split(':');
  const row: Record<string, unknown> = {
    upid: t.upid,
    node: model.node,
    pid: parseInt(parts[2] ?? '0', 16),
    pstart: parseInt(parts[3] ?? '0', 16),
    starttime: t.start,
    worker_type: t.type,
    user: t.user,
  };
  if (t.id !== undefined) row.worker_id = t.id;
  if (t.end !== undefined) row.endtime = t.end;
  if (t.status !== undefined) row.status = t.status;
  return row;
}

const HANDLERS = new Map<string, Handler>([
  ['/version', (ctx) => ctx.model.version],
  [
    '/access/permissions',
    (ctx) => {
      // What the token holds, path by path, with whether it propagates (PBS answers booleans).
      const out: Record<string, Record<string, boolean>> = {};
      for (const [path, privs] of Object.entries(ctx.privileges)) out[path] = Object.fromEntries(Object.keys(privs).map((p) => [p, true]));
      return out;
    },
  ],
  [
    '/status/datastore-usage',
    (ctx) =>
      visibleStores(ctx).map((d) => {
        const row: Record<string, unknown> = {
          store: d.store,
          total: d.total,
          used: d.used,
          avail: d.total - d.used,
          'mount-status': d.mount,
          'backend-type': 'filesystem',
          history: Array.from({ length: 30 }, (_, i) => (d.used / d.total) * (0.9 + i / 300)),
          'history-start': 1_777_400_000,
          'history-delta': 86_400,
          'gc-status': gcStatus(d),
        };
        if (d.estimatedFull !== undefined) row['estimated-full-date'] = d.estimatedFull;
        return row;
      }),
  ],
  [
    '/admin/datastore/{store}/status',
    (ctx) => {
      const d = datastore(ctx);
      const out: Record<string, unknown> = { total: d.total, used: d.used, avail: d.total - d.used, 'backend-type': 'filesystem' };
      if (flag(ctx.query.verbose)) {
        const counts: Record<string, { groups: number; snapshots: number }> = {};
        for (const g of d.groups) {
          const c = (counts[g.type] ??= { groups: 0, snapshots: 0 });
          c.groups++;
          c.snapshots += g.snapshots.length;
        }
        out.counts = counts;
        out['gc-status'] = gcStatus(d);
      }
      return out;
    },
  ],
  [
    '/admin/gc',
    (ctx) =>
      visibleStores(ctx)
        .filter((d) => ctx.query.store === undefined || d.store === ctx.query.store)
        .map(gcStatus),
  ],
  [
    '/admin/datastore/{store}/groups',
    (ctx) =>
      datastore(ctx)
        .groups.filter((g) => inNamespace(ctx, g))
        .map((g) => {
          const last = g.snapshots[0];
          const row: Record<string, unknown> = {
            'backup-type': g.type,
            'backup-id': g.id,
            'backup-count': g.snapshots.length,
            'last-backup': last?.time ?? 0,
            owner: g.owner,
            files: last?.files ?? [],
          };
          if (g.comment !== undefined) row.comment = g.comment;
          return row;
        }),
  ],
  [
    '/admin/datastore/{store}/snapshots',
    (ctx) =>
      datastore(ctx)
        .groups.filter((g) => inNamespace(ctx, g))
        .filter((g) => ctx.query['backup-type'] === undefined || g.type === ctx.query['backup-type'])
        .filter((g) => ctx.query['backup-id'] === undefined || g.id === ctx.query['backup-id'])
        .flatMap((g) =>
          g.snapshots.map((s) => {
            const row: Record<string, unknown> = {
              'backup-type': g.type,
              'backup-id': g.id,
              'backup-time': s.time,
              size: s.size,
              owner: g.owner,
              protected: s.protected,
              files: s.files,
              fingerprint: 'ab:cd:ef:01:23:45:67:89',
            };
            if (s.verification !== undefined) row.verification = { state: s.verification, upid: ctx.model.tasks[1]?.upid ?? '' };
            if (s.comment !== undefined) row.comment = s.comment;
            return row;
          }),
        ),
  ],
  [
    '/admin/datastore/{store}/namespace',
    (ctx) => {
      const d = datastore(ctx);
      const parent = ctx.query.parent ?? '';
      const rows = [{ ns: '' }, ...d.namespaces].filter((n) => parent === '' || n.ns === parent || n.ns.startsWith(`${parent}/`));
      return rows.map((n) => ({ ...n }));
    },
  ],
  ['/admin/prune', jobs('prune')],
  ['/admin/verify', jobs('verify')],
  ['/admin/sync', jobs('sync')],
  ['/tape/backup', jobs('tape')],
  [
    '/nodes/{node}/tasks',
    (ctx) => {
      if (!ctx.can('/system/tasks', 'Sys.Audit')) return new Envelope([], { total: 0 });
      const q = ctx.query;
      const rows = ctx.model.tasks
        .filter((t) => q.store === undefined || t.store === q.store)
        .filter((t) => q.typefilter === undefined || t.type.includes(q.typefilter))
        .filter((t) => !flag(q.errors) || (t.status !== undefined && t.status !== 'OK'))
        .filter((t) => !flag(q.running) || t.end === undefined)
        .filter((t) => q.since === undefined || t.start >= Number(q.since))
        .sort((a, b) => b.start - a.start);
      const start = Number(q.start ?? 0);
      const limit = Number(q.limit ?? 50);
      return new Envelope(
        rows.slice(start, start + limit).map((t) => taskRow(ctx.model, t)),
        { total: rows.length },
      );
    },
  ],
  [
    '/nodes/{node}/tasks/{upid}/status',
    (ctx) => {
      const t = task(ctx);
      const row: Record<string, unknown> = { ...taskRow(ctx.model, t), type: t.type, status: t.end === undefined ? 'running' : 'stopped' };
      delete row.worker_type;
      delete row.worker_id;
      if (t.id !== undefined) row.id = t.id;
      if (t.end !== undefined) row.exitstatus = t.status ?? 'unknown';
      return row;
    },
  ],
  [
    '/nodes/{node}/tasks/{upid}/log',
    (ctx) => {
      const t = task(ctx);
      const start = Number(ctx.query.start ?? 0);
      const limit = Number(ctx.query.limit ?? 50);
      const lines = t.log.map((text, i) => ({ n: i + 1, t: text }));
      const extra: Record<string, unknown> = { total: lines.length };
      if (flag(ctx.query['test-status'])) extra.active = t.end === undefined;
      return new Envelope(lines.slice(start, limit === 0 ? undefined : start + limit), extra);
    },
  ],
  [
    '/nodes/{node}/status',
    () => ({
      cpu: 0.031,
      wait: 0.002,
      uptime: 1_209_600,
      loadavg: [0.12, 0.2, 0.18],
      kversion: 'Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2',
      cpuinfo: { cpus: 8, model: 'AMD EPYC 4124P', sockets: 1 },
      memory: { total: 32 * 1024 ** 3, used: 9 * 1024 ** 3, free: 23 * 1024 ** 3 },
      swap: { total: 8 * 1024 ** 3, used: 0, free: 8 * 1024 ** 3 },
      root: { total: 100 * 1024 ** 3, used: 12 * 1024 ** 3, avail: 88 * 1024 ** 3 },
      info: { fingerprint: 'AA:BB:CC' },
      'boot-info': { mode: 'efi', secureboot: true },
      'current-kernel': { machine: 'x86_64', release: '6.14.8-2-pve', sysname: 'Linux', version: '#1 SMP' },
    }),
  ],
  [
    '/config/remote',
    (ctx) =>
      ctx.model.remotes
        .filter((r) => ctx.can(`/remote/${r.name}`, 'Remote.Audit'))
        .map((r) => {
          const row: Record<string, unknown> = { name: r.name, host: r.host, 'auth-id': r.authId, fingerprint: r.fingerprint };
          if (r.port !== undefined) row.port = r.port;
          if (r.comment !== undefined) row.comment = r.comment;
          return row;
        }),
  ],
]);

/** The first missing privilege of a PBS permission object, or undefined when granted. */
export function missingPbsPermission(permissions: unknown, params: Record<string, string>, can: (path: string, privilege: string) => boolean, authId: string): string | undefined {
  if (typeof permissions !== 'object' || permissions === null) return undefined;
  const p = permissions as { check?: { path?: unknown; privs?: unknown; partial?: unknown }; or?: unknown; and?: unknown; user?: unknown; userParam?: unknown };
  if (p.check !== undefined) {
    const parts = Array.isArray(p.check.path) ? (p.check.path as string[]) : [];
    const path = `/${parts.map((s) => s.replace(/^\{(.+)\}$/, (_m, name: string) => params[name] ?? '')).join('/')}`;
    const privs = Array.isArray(p.check.privs) ? (p.check.privs as string[]) : [];
    const granted = p.check.partial === true ? privs.some((x) => can(path, x)) : privs.every((x) => can(path, x));
    return granted ? undefined : `${path}: ${privs.join(p.check.partial === true ? '|' : ', ')}`;
  }
  if (Array.isArray(p.or)) {
    const missing = p.or.map((sub) => missingPbsPermission(sub, params, can, authId));
    return missing.includes(undefined) ? undefined : missing[0];
  }
  if (Array.isArray(p.and)) return p.and.map((sub) => missingPbsPermission(sub, params, can, authId)).find((m) => m !== undefined);
  if (typeof p.userParam === 'string') return params[p.userParam] === authId.split('!')[0] ? undefined : 'owner';
  return undefined;
}

export async function startFakePbs(options: FakePbsOptions = {}): Promise<FakePbs> {
  const certs = await getCertificates(false);
  const spec = SpecIndex.load(options.specPath ?? DEFAULT_SPEC);
  const model = options.model ?? makePbs();
  const tokens = options.tokens ?? [pbsToken()];
  const primary = tokens[0];
  if (primary === undefined) throw new Error('fake PBS: at least one token is needed');
  const requests: RecordedRequest[] = [];
  const faults = new Map<string, PbsFault>();
  let closed = false;

  function authenticate(headers: IncomingHttpHeaders): FakeToken {
    const value = /^PBSAPIToken[= ](\S+)$/.exec(headers.authorization ?? '')?.[1];
    if (value === undefined) throw new PbsError(401, 'authentication failed - no authentication credentials provided.');
    const colon = value.lastIndexOf(':');
    const id = colon === -1 ? value : value.slice(0, colon);
    const secret = colon === -1 ? '' : value.slice(colon + 1);
    const token = TOKEN_ID.test(id) ? tokens.find((t) => t.id === id) : undefined;
    if (token?.secret !== secret) throw new PbsError(401, 'authentication failed - invalid token secret');
    return token;
  }

  function answer(method: string, path: string, query: Record<string, string>, headers: IncomingHttpHeaders): Reply {
    if (path !== BASE && !path.startsWith(`${BASE}/`)) throw new PbsError(404, `Path '${path}' not found.`);
    const token = authenticate(headers);
    if (method !== 'GET') throw new PbsError(405, `Method '${method}' not allowed by this fake.`);
    const segments = path
      .slice(BASE.length)
      .split('/')
      .filter((s) => s !== '')
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      });
    const match = spec.match('GET', segments);
    const op = match?.op;
    if (match === undefined || op === undefined) throw new PbsError(404, `Path '${path}' not found.`);
    const can = (aclPath: string, privilege: string): boolean => {
      const parts = aclPath.split('/').filter((s) => s !== '');
      for (let i = 0; i <= parts.length; i++) {
        if (token.privileges[`/${parts.slice(0, i).join('/')}`]?.[privilege] === 1) return true;
      }
      return false;
    };
    const errors = validateParams(op, match.pathParams, query, { search: true });
    if (Object.keys(errors).length > 0) {
      throw new PbsError(400, `parameter verification errors\n\n${Object.entries(errors).map(([k, v]) => `parameter '${k}': ${v}\n`).join('')}`);
    }
    const missing = missingPbsPermission(op.permissions, match.pathParams, can, token.id);
    if (missing !== undefined) throw new PbsError(403, 'permission check failed');
    const handler = HANDLERS.get(match.template);
    if (handler === undefined) throw new PbsError(501, `fake PBS: ${match.template} is not modelled`);
    const result = handler({ model, params: match.pathParams, query, can, privileges: token.privileges });
    const envelope = result instanceof Envelope ? { data: result.data, ...result.extra } : { data: result };
    return { status: 200, body: JSON.stringify(envelope) };
  }

  function send(res: ServerResponse, record: RecordedRequest, reply: Reply): void {
    const body = Buffer.from(reply.body, 'utf8');
    record.status = reply.status;
    // Errors too go out as JSON by the header, while the body is the plain message (BEHAVIOUR.md).
    res.writeHead(reply.status, STATUS_CODES[reply.status] ?? 'Error', {
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': body.length,
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://fake.invalid');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const record: RecordedRequest = { method: req.method ?? '', path, query, headers: req.headers, status: 0 };
    requests.push(record);
    req.resume();
    await once(req, 'end');
    const rel = path.startsWith(BASE) ? path.slice(BASE.length) : path;
    const fault = faults.get(rel);
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (closed || res.destroyed) return;
    if (fault?.kind === 'status') {
      send(res, record, { status: fault.status, body: fault.body });
      return;
    }
    let reply: Reply;
    try {
      reply = answer(req.method ?? '', path, query, req.headers);
    } catch (error) {
      if (!(error instanceof PbsError)) throw error;
      reply = { status: error.status, body: error.message };
    }
    send(res, record, reply);
  }

  const listener = await listenTls(certs, { label: 'fake PBS', caFile: 'proxy-ca.pem' }, handle);
  const { port, caFile } = listener;

  return {
    url: `https://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    caFile,
    caPem: certs.caPem,
    fingerprint: certs.fingerprint,
    requests,
    get connections() {
      return listener.connections;
    },
    tokenId: primary.id,
    tokenSecret: primary.secret,
    /** Answers a template path (without /api2/json) with a status and a plain-text body, as PBS errors are. */
    setFault(match, fault) {
      const key = typeof match === 'string' ? match : match.source;
      if (fault === null) faults.delete(key);
      else if (fault.kind === 'status') faults.set(key, { kind: 'status', status: fault.status, body: fault.body ?? fault.reason ?? 'error' });
      else if (fault.kind === 'slow') faults.set(key, { kind: 'slow', ms: fault.ms });
      else throw new Error(`fake PBS: fault ${fault.kind} is not modelled`);
    },
    clearFaults() {
      faults.clear();
    },
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
    },
  };
}
