// An HTTPS server that answers like a Proxmox VE API (pveproxy): same envelopes, error statuses,
// reason phrases, delays and connection handling, from a cluster model. Every request is recorded.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ClusterModel } from './cluster.js';
import { makeCluster } from './cluster.js';
import { getCertificates } from './certs.js';
import { listenTls } from './listen.js';
import type { FakeCertificates } from './certs.js';
import { ClusterIndex } from './data.js';
import { ApiError, Envelope, directoryIndex, handlers, paramError } from './routes.js';
import { SpecIndex, missingPermission, validateParams } from './spec.js';

export interface FakeToken {
  /** `USER@REALM!TOKENID` */
  id: string;
  secret: string;
  /** Privileges per ACL path; they propagate to every path below. */
  privileges: Record<string, Record<string, 1>>;
}

export type Fault =
  | { kind: 'hang' }
  | { kind: 'slow'; ms: number }
  | { kind: 'close-mid-body' }
  | { kind: 'invalid-json' }
  | { kind: 'huge-body'; bytes: number }
  | { kind: 'status'; status: number; reason?: string; body?: string };

export interface FakeOptions {
  cluster?: ClusterModel;
  /** Delay before every answer. */
  latencyMs?: number;
  /** Delay before a 401 (real Proxmox waits about 3 s). */
  authFailDelayMs?: number;
  /** Accepted tokens; the first is the one `tokenId`/`tokenSecret` describe. Default: one PVEAuditor token. */
  tokens?: FakeToken[];
  /** Serve a certificate that the handed-out CA did not sign. */
  tls?: { wrongCertificate?: boolean };
  /** OpenAPI document that defines the paths and parameters (default: the pinned spec). */
  specPath?: string;
  /** Served without authentication at /pve-docs/api-viewer/apidoc.js, as a real host does. */
  apidocPath?: string;
}

export interface RecordedRequest {
  method: string;
  /** Raw, undecoded path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Status sent, 0 while (or if never) answered. */
  status: number;
}

export interface FakeProxmox {
  url: string;
  host: string;
  port: number;
  caFile: string;
  caPem: string;
  fingerprint: string;
  requests: RecordedRequest[];
  readonly connections: number;
  tokenId: string;
  tokenSecret: string;
  /** A string matches the path exactly, a RegExp anywhere; both with or without `/api2/json`. */
  setFault(match: RegExp | string, fault: Fault | null): void;
  clearFaults(): void;
  close(): Promise<void>;
}

/** The privileges of the built-in PVEAuditor role. */
export const PVE_AUDITOR: Record<string, 1> = {
  'Sys.Audit': 1,
  'VM.Audit': 1,
  'VM.GuestAgent.Audit': 1,
  'Datastore.Audit': 1,
  'SDN.Audit': 1,
  'Pool.Audit': 1,
  'Mapping.Audit': 1,
};

export function makeToken(id: string, privileges: Record<string, Record<string, 1>>): FakeToken {
  return { id, secret: randomUUID(), privileges };
}

export function auditorToken(id = 'root@pam!mcp'): FakeToken {
  return makeToken(id, { '/': { ...PVE_AUDITOR } });
}

const BASE = '/api2/json';
const APIDOC = '/pve-docs/api-viewer/apidoc.js';
const TOKEN_ID = /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/;
const DEFAULT_SPEC = fileURLToPath(new URL('../../spec/proxmox-ve.openapi.json', import.meta.url));

const specs = new Map<string, SpecIndex>();

function loadSpec(file: string): SpecIndex {
  let spec = specs.get(file);
  if (spec === undefined) {
    if (!existsSync(file)) throw new Error(`fake Proxmox: OpenAPI document not found at ${file}; pass specPath`);
    spec = SpecIndex.load(file);
    specs.set(file, spec);
  }
  return spec;
}

interface Reply {
  status: number;
  reason: string;
  body: string | Buffer;
  contentType?: string;
  authFailure?: boolean;
}

// Node refuses a reason phrase with control or non-Latin-1 characters; Proxmox would send bytes.
function headerSafe(text: string): string {
  return text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

// The permissions of the few endpoints a spec might carry without `x-pve-permissions`.
function fallbackPermissions(template: string): unknown {
  if (/^\/cluster\/(status|ha|backup|backup-info|ceph)(\/|$)/.test(template)) return ['perm', '/', ['Sys.Audit']];
  if (/^\/nodes\/\{node\}\/(qemu|lxc)\/\{vmid\}/.test(template)) return ['perm', '/vms/{vmid}', ['VM.Audit']];
  if (/^\/nodes\/\{node\}\/storage\/\{storage\}/.test(template)) {
    return ['perm', '/storage/{storage}', ['Datastore.Audit', 'Datastore.AllocateSpace'], 'any', 1];
  }
  // Lists filter their rows instead of refusing.
  if (/^\/nodes\/\{node\}\/(qemu|lxc|storage|tasks|replication|network|version|certificates)(\/|$)/.test(template)) return undefined;
  if (template.startsWith('/nodes/{node}/')) return ['perm', '/nodes/{node}', ['Sys.Audit']];
  return undefined;
}

function errorReply(error: ApiError, old: boolean): Reply {
  const reason = headerSafe(error.message.replace(/\n+$/, '').split('\n')[0] ?? '');
  if (error.status === 595) return { status: 595, reason, body: '' };
  if (error.errors !== undefined) {
    const errors = Object.fromEntries(Object.entries(error.errors).map(([k, v]) => [k, `${v}\n`]));
    return { status: error.status, reason, body: JSON.stringify({ data: null, errors }) };
  }
  // Servers from 2025 on repeat the reason in the body; older ones send only `data: null`.
  const body = old ? { data: null } : { data: null, message: `${error.message}\n` };
  return { status: error.status, reason, body: JSON.stringify(body) };
}

export async function startFakeProxmox(options: FakeOptions = {}): Promise<FakeProxmox> {
  const certs: FakeCertificates = await getCertificates(options.tls?.wrongCertificate === true);
  const spec = loadSpec(options.specPath ?? DEFAULT_SPEC);
  const index = new ClusterIndex(options.cluster ?? makeCluster());
  const tokens = options.tokens ?? [auditorToken()];
  const primary = tokens[0];
  if (primary === undefined) throw new Error('fake Proxmox: at least one token is needed');
  const latencyMs = options.latencyMs ?? 0;
  const authFailDelayMs = options.authFailDelayMs ?? 0;
  const faults = new Map<string, { match: RegExp | string; fault: Fault }>();
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let apidoc: Buffer | undefined;
  // The model does not change while the server runs, so an answer depends only on the token, the
  // path and the query: serialise each once (a 5,000-guest /cluster/resources is 1.5 MB).
  const answers = new Map<string, Buffer>();

  const sleep = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, ms);
          timers.add(timer);
        });

  function findFault(path: string): Fault | undefined {
    const rel = path.startsWith(BASE) ? path.slice(BASE.length) : path;
    for (const { match, fault } of faults.values()) {
      if (typeof match === 'string') {
        if (match === path || match === rel) return fault;
      } else {
        match.lastIndex = 0;
        if (match.test(path)) return fault;
        match.lastIndex = 0;
        if (match.test(rel)) return fault;
      }
    }
    return undefined;
  }

  function authenticate(headers: IncomingHttpHeaders): FakeToken | Reply {
    const header = headers.authorization;
    const value = header === undefined ? undefined : /(?:^|\s)PVEAPIToken(?:=| )(\S+)/.exec(header)?.[1];
    if (value === undefined) return { status: 401, reason: 'No ticket', body: '', authFailure: true };
    const eq = value.indexOf('=');
    const id = eq === -1 ? value : value.slice(0, eq);
    const secret = eq === -1 ? '' : value.slice(eq + 1);
    const token = TOKEN_ID.test(id) ? tokens.find((t) => t.id === id) : undefined;
    if (token?.secret !== secret) return { status: 401, reason: 'authentication failure', body: '', authFailure: true };
    return token;
  }

  function answer(method: string, path: string, query: Record<string, string>, headers: IncomingHttpHeaders): Reply {
    if (path === APIDOC && options.apidocPath !== undefined && method === 'GET') {
      apidoc ??= readFileSync(options.apidocPath);
      return { status: 200, reason: 'OK', body: apidoc, contentType: 'application/javascript; charset=utf-8' };
    }
    if (!['GET', 'POST', 'PUT', 'DELETE'].includes(method)) {
      return { status: 501, reason: `method '${headerSafe(method)}' not available`, body: '' };
    }
    if (path !== BASE && !path.startsWith(`${BASE}/`)) return { status: 404, reason: 'Not found', body: '' };
    const auth = authenticate(headers);
    if (!('id' in auth)) return auth;
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
    const rel = `/${segments.join('/')}`;
    const match = method === 'GET' ? spec.match(method, segments) : undefined;
    const op = match?.op;
    if (match === undefined || op === undefined) throw new ApiError(501, `Method '${method} ${rel}' not implemented`);
    const params = match.pathParams;
    const duplicates = Object.keys(query).filter((k) => params[k] !== undefined);
    if (duplicates.length > 0) {
      throw paramError(Object.fromEntries(duplicates.map((k) => [k, 'duplicate parameter (already defined in URI)'])));
    }
    const can = (aclPath: string, privilege: string): boolean => {
      const parts = aclPath.split('/').filter((s) => s !== '');
      for (let i = 0; i <= parts.length; i++) {
        const prefix = `/${parts.slice(0, i).join('/')}`;
        if (auth.privileges[prefix]?.[privilege] === 1) return true;
      }
      return false;
    };
    const permissions = op.permissions ?? fallbackPermissions(match.template);
    const missing = missingPermission(permissions, params, can);
    if (missing !== undefined) throw new ApiError(403, `Permission check failed (${missing.path}, ${missing.privilege})`);
    if (match.template.startsWith('/nodes/{node}')) {
      // pveproxy forwards per-node calls before the target node validates the parameters.
      const name = params['node'] ?? '';
      const target = index.nodes.get(name);
      if (target === undefined && name !== 'localhost') {
        throw new ApiError(500, `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`);
      }
      if (target !== undefined && !target.online) throw new ApiError(595, 'No route to host');
      if (name === 'localhost') params['node'] = index.model.nodes[0]?.name ?? 'pve1';
    }
    const errors = validateParams(op, params, query);
    if (Object.keys(errors).length > 0) throw paramError(errors);
    const cacheKey = JSON.stringify([auth.id, match.template, params, Object.entries(query).sort()]);
    const cached = answers.get(cacheKey);
    if (cached !== undefined) return { status: 200, reason: 'OK', body: cached };
    const handler = handlers.get(match.template);
    let result: unknown;
    if (handler !== undefined) {
      result = handler({ index, params, query, can, privileges: auth.privileges, certs });
    } else {
      const children = spec.childrenOf(match.template);
      if (children.length === 0) throw new ApiError(501, `Method '${method} ${rel}' not implemented`);
      result = directoryIndex(children);
    }
    const body = Buffer.from(JSON.stringify(result instanceof Envelope ? { data: result.data, ...result.extra } : { data: result }), 'utf8');
    if (answers.size >= 2000) answers.clear();
    answers.set(cacheKey, body);
    return { status: 200, reason: 'OK', body };
  }

  function baseHeaders(): Record<string, string> {
    return { Server: 'pve-api-daemon/3.0', 'Cache-Control': 'max-age=0', Pragma: 'no-cache', Expires: new Date().toUTCString() };
  }

  function writeReply(res: ServerResponse, record: RecordedRequest, reply: Reply): void {
    const headers: Record<string, string | number> = baseHeaders();
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
    if (body.length > 0) headers['Content-Type'] = reply.contentType ?? 'application/json;charset=UTF-8';
    headers['Content-Length'] = body.length;
    if (reply.status >= 400) headers['Connection'] = 'close';
    record.status = reply.status;
    res.writeHead(reply.status, reply.reason, headers);
    res.end(body);
  }

  async function streamHuge(res: ServerResponse, record: RecordedRequest, bytes: number): Promise<void> {
    record.status = 200;
    res.writeHead(200, 'OK', { ...baseHeaders(), 'Content-Type': 'application/json;charset=UTF-8' });
    const row = JSON.stringify({ vmid: 100, name: 'web-01', status: 'running', tags: 'prod;web', description: 'x'.repeat(900) });
    const rowsPerChunk = Math.max(1, Math.floor(65_536 / (row.length + 1)));
    const chunk = Array.from({ length: rowsPerChunk }, () => row).join(',');
    let sent = 0;
    let first = true;
    const write = async (text: string): Promise<boolean> => {
      if (res.destroyed || closed) return false;
      sent += text.length;
      if (!res.write(text)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      return !res.destroyed;
    };
    if (!(await write('{"data":['))) return;
    while (sent < bytes) {
      if (!(await write(first ? chunk : `,${chunk}`))) return;
      first = false;
    }
    if (await write(']}')) res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = Object.fromEntries(new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1)));
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { method, path, query, headers: req.headers, status: 0 };
    requests.push(record);
    req.resume();
    const fault = findFault(path);
    let reply: Reply;
    try {
      reply = answer(method, path, query, req.headers);
    } catch (error) {
      if (error instanceof ApiError) {
        reply = errorReply(error, index.old);
      } else {
        const message = error instanceof Error ? error.message : String(error);
        reply = errorReply(new ApiError(500, `fake Proxmox internal error: ${message}`), false);
      }
    }
    if (fault?.kind === 'hang') return;
    const delay = latencyMs + (fault?.kind === 'slow' ? fault.ms : 0) + (reply.authFailure === true && fault === undefined ? authFailDelayMs : 0);
    await sleep(delay);
    if (closed || res.destroyed) return;
    switch (fault?.kind) {
      case 'status': {
        const empty = fault.status === 401 || fault.status === 595;
        const reason = fault.reason ?? STATUS_CODES[fault.status] ?? 'Error';
        const body = fault.body ?? (empty ? '' : JSON.stringify({ data: null, message: `${reason}\n` }));
        writeReply(res, record, { status: fault.status, reason: headerSafe(reason), body });
        return;
      }
      case 'invalid-json':
        writeReply(res, record, { status: 200, reason: 'OK', body: '{"data":[{"vmid":100,"name":"web-01","status":"running"},{"vmid":' });
        return;
      case 'huge-body':
        await streamHuge(res, record, fault.bytes);
        return;
      case 'close-mid-body': {
        const body = reply.body.length > 1 ? Buffer.from(reply.body) : Buffer.from('{"data":[]}');
        record.status = reply.status;
        res.writeHead(reply.status, reply.reason, { ...baseHeaders(), 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': body.length });
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
          res.socket?.destroy();
        });
        return;
      }
      default:
        writeReply(res, record, reply);
    }
  }

  const listener = await listenTls(certs, { label: 'fake Proxmox', caFile: 'pve-root-ca.pem' }, handle);
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
    setFault(match, fault) {
      const key = typeof match === 'string' ? `s:${match}` : `r:${match.source}/${match.flags}`;
      if (fault === null) faults.delete(key);
      else faults.set(key, { match, fault });
    },
    clearFaults() {
      faults.clear();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await listener.close();
    },
  };
}
