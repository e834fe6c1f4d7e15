// The only way to Proxmox: the generated openapi-fetch client, GET only, guarded so that no request
// can leave the path template a tool was allowed. undici (the costly import) loads on first use.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './generated/proxmox-api.js';
import type { AgentLimits, TlsSettings } from './tls.js';

export interface UpstreamOk {
  ok: true;
  data: unknown;
  total?: number;
}
export interface UpstreamFailure {
  ok: false;
  /** HTTP status, or 0 when no answer arrived. */
  status: number;
  kind: 'http' | 'timeout' | 'network' | 'tls' | 'too-large' | 'invalid-json' | 'refused';
  /** Proxmox's own words: body `message`, else the reason phrase. */
  message: string;
  errors?: Record<string, string>;
}
export type UpstreamResult = UpstreamOk | UpstreamFailure;

export interface UpstreamRequest {
  template: string;
  path: Record<string, string | number>;
  query: Record<string, string | number>;
  signal: AbortSignal;
}

export interface Upstream {
  get(request: UpstreamRequest): Promise<UpstreamResult>;
  close(): Promise<void>;
}

export interface ClientOptions {
  baseUrl: string;
  tokenId: string;
  tokenSecret: string;
  tls: TlsSettings;
  limits: AgentLimits;
  /** Templates that may be requested at all (the manifest's paths). */
  allowedTemplates: ReadonlySet<string>;
  /** For tests: a fetch to use instead of undici's. */
  fetch?: typeof globalThis.fetch;
}

export class GuardError extends Error {
  override readonly name = 'GuardError';
}

// Characters a path value may hold once encoded; `.` and `..` alone are refused separately.
const SAFE_SEGMENT = /^(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+$/;

function templateRegex(template: string): RegExp {
  const escaped = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped}$`);
}

/** Refuses anything but a GET whose final URL path is exactly an allowed template with safe values. */
export function checkRequest(method: string, url: URL, base: URL, template: string, allowed: ReadonlySet<string>): void {
  if (method !== 'GET') throw new GuardError(`refused ${method}: this server only reads`);
  if (!allowed.has(template)) throw new GuardError(`refused: ${template} is not a path any tool may read`);
  if (url.origin !== base.origin) throw new GuardError('refused: the request left the configured host');
  const prefix = base.pathname.replace(/\/$/, '');
  if (!url.pathname.startsWith(`${prefix}/`)) throw new GuardError('refused: the request left the API base path');
  const rest = url.pathname.slice(prefix.length);
  const m = templateRegex(template).exec(rest);
  if (m === null) throw new GuardError(`refused: ${rest} does not match ${template}`);
  for (const value of m.slice(1)) {
    if (!SAFE_SEGMENT.test(value)) throw new GuardError('refused: unsafe characters in a path value');
    const decoded = decodeURIComponent(value);
    // eslint-disable-next-line no-control-regex
    if (decoded === '.' || decoded === '..' || /[/\\\u0000-\u001f]/.test(decoded)) throw new GuardError('refused: a path value may not be . or .. or hold / \\ or controls');
  }
}

function errorKind(error: unknown): { kind: UpstreamFailure['kind']; message: string } {
  const seen = new Set<unknown>();
  let e: unknown = error;
  const codes: string[] = [];
  const names: string[] = [];
  while (typeof e === 'object' && e !== null && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    names.push((e as { name?: string }).name ?? '');
    e = (e as { cause?: unknown }).cause;
  }
  const has = (re: RegExp): boolean => codes.some((c) => re.test(c)) || names.some((n) => re.test(n));
  if (has(/TimeoutError|AbortError|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|UND_ERR_CONNECT_TIMEOUT|ETIMEDOUT/)) return { kind: 'timeout', message: 'timed out' };
  if (has(/UND_ERR_RES_EXCEEDED_MAX_SIZE|ResponseExceededMaxSize/)) return { kind: 'too-large', message: 'response too large' };
  if (has(/ERR_TLS_FINGERPRINT_MISMATCH/)) return { kind: 'tls', message: 'certificate fingerprint mismatch' };
  const tls = codes.find((c) => /CERT|SELF_SIGNED|TLS|SSL|ERR_TLS|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/.test(c));
  if (tls !== undefined) return { kind: 'tls', message: tls };
  if (has(/GuardError/)) return { kind: 'refused', message: 'refused by the request guard' };
  const net = codes.find((c) => /^E[A-Z]+$/.test(c) || /^UND_ERR/.test(c));
  return { kind: 'network', message: net ?? 'connection failed' };
}

function parseEnvelope(status: number, reason: string, text: string): UpstreamResult {
  if (status >= 200 && status < 300) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, status, kind: 'invalid-json', message: 'the answer was not valid JSON' };
    }
    if (typeof body !== 'object' || body === null || !('data' in body)) {
      return { ok: false, status, kind: 'invalid-json', message: 'the answer had no data envelope' };
    }
    const env = body as { data: unknown; total?: unknown };
    const result: UpstreamOk = { ok: true, data: env.data };
    const total = Number(env.total);
    if (env.total !== undefined && Number.isFinite(total)) result.total = total;
    return result;
  }
  // 401 and 595 answer with an empty or plain-text body; others may carry message/errors.
  let message = reason;
  let errors: Record<string, string> | undefined;
  if (text.trim().startsWith('{')) {
    try {
      const body = JSON.parse(text) as { message?: unknown; errors?: unknown };
      if (typeof body.message === 'string' && body.message.trim() !== '') message = body.message;
      if (typeof body.errors === 'object' && body.errors !== null) {
        errors = Object.fromEntries(Object.entries(body.errors).map(([k, v]) => [k, String(v).trim()]));
      }
    } catch {
      // A broken error body still has its status and reason phrase.
    }
  }
  const failure: UpstreamFailure = { ok: false, status, kind: 'http', message: message.trim() || `HTTP ${status}` };
  if (errors !== undefined) failure.errors = errors;
  return failure;
}

export function createUpstream(options: ClientOptions): Upstream {
  const base = new URL(options.baseUrl);
  const auth = `PVEAPIToken=${options.tokenId}=${options.tokenSecret}`;
  const guard: Middleware = {
    onRequest({ request, schemaPath }) {
      checkRequest(request.method, new URL(request.url), base, schemaPath, options.allowedTemplates);
      request.headers.set('Authorization', auth);
      request.headers.set('Accept', 'application/json');
      return request;
    },
  };

  interface Transport {
    client: ReturnType<typeof createClient<paths>>;
    close: () => Promise<void>;
  }
  let transportPromise: Promise<Transport> | undefined;
  const makeClient = (fetch: typeof globalThis.fetch, Request: typeof globalThis.Request): Transport['client'] => {
    const client = createClient<paths>({ baseUrl: options.baseUrl, fetch, Request });
    client.use(guard);
    return client;
  };
  const transport = (): Promise<Transport> => {
    transportPromise ??=
      options.fetch !== undefined
        ? Promise.resolve({ client: makeClient(options.fetch, globalThis.Request), close: () => Promise.resolve() })
        : import('./tls.js').then((tls) => {
            const agent = tls.createAgent(options.tls, options.limits);
            return { client: makeClient(tls.createFetch(agent), globalThis.Request), close: () => agent.close() };
          });
    return transportPromise;
  };

  return {
    async get({ template, path, query, signal }) {
      try {
        const { client } = await transport();
        // The template is checked against the manifest at run time; the typed API cannot know it statically.
        const get = client.GET as unknown as (
          p: string,
          init: { params: { path: Record<string, string | number>; query: Record<string, string | number> }; parseAs: 'text'; signal: AbortSignal },
        ) => Promise<{ data?: string; error?: unknown; response: Response }>;
        const { data, error, response } = await get(template, { params: { path, query }, parseAs: 'text', signal });
        // openapi-fetch hands error bodies back already parsed when they are JSON.
        const body = data ?? (typeof error === 'string' ? error : error === undefined ? '' : JSON.stringify(error));
        return parseEnvelope(response.status, response.statusText, body);
      } catch (err) {
        if (err instanceof GuardError) return { ok: false, status: 0, kind: 'refused', message: err.message };
        // undici reports network failures as "fetch failed" with a cause; anything else is our bug: let it surface.
        if (err instanceof TypeError && err.cause === undefined) throw err;
        const { kind, message } = errorKind(err);
        return { ok: false, status: 0, kind, message };
      }
    },
    async close() {
      if (transportPromise !== undefined) await (await transportPromise).close();
    },
  };
}
