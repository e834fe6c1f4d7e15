// The only way to Proxmox: the generated openapi-fetch client over undici, GET only, guarded so that
// no request can leave the path template a tool was allowed. undici (the costly import) loads on first use.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from '../generated/proxmox-api.js';
import { noteAnswerSize } from '../memory.js';
import { registerSecret } from '../secrets.js';
import { authorization, type ApiDescription } from './api/index.js';
import { errorBodyText, readEnvelope } from './envelope.js';
import type { AgentLimits, TlsSettings } from './http.js';

export interface UpstreamOk {
  ok: true;
  data: unknown;
  total?: number;
}
export interface UpstreamFailure {
  ok: false;
  /** HTTP status, or 0 when no answer arrived. */
  status: number;
  kind: 'http' | 'timeout' | 'network' | 'tls' | 'too-large' | 'too-many-values' | 'invalid-json' | 'invalid-argument' | 'refused';
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

/** Paths the code itself names: their calls are checked by the generated types. */
export type KnownPath = ApiDescription['versionPath'] | ApiDescription['permissionsPath'];

export interface Upstream {
  /** A manifest tool's GET: its template comes from tools.yaml, so only the guard can check it. */
  get(request: UpstreamRequest): Promise<UpstreamResult>;
  /** A GET of a path the code names, with no parameters. */
  read(path: KnownPath, signal: AbortSignal): Promise<UpstreamResult>;
  /** Drops the connections at once, with any request still running (the server is stopping). */
  close(): Promise<void>;
}

export interface ClientOptions {
  /** The API spoken to: its Authorization header format. */
  api: ApiDescription;
  baseUrl: string;
  tokenId: string;
  tokenSecret: string;
  tls: TlsSettings;
  limits: AgentLimits;
  /** Templates that may be requested at all (the manifest's paths). */
  allowedTemplates: ReadonlySet<string>;
}

export class GuardError extends Error {
  override readonly name = 'GuardError';
}

// Characters a path value may hold once encoded; `.` and `..` alone are refused separately.
const SAFE_SEGMENT = /^(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+$/;

const templateRegexes = new Map<string, { re: RegExp; names: string[] }>();

function templateRegex(template: string): { re: RegExp; names: string[] } {
  let compiled = templateRegexes.get(template);
  if (compiled === undefined) {
    const names: string[] = [];
    const escaped = template
      .split(/(\{[^}]+\})/)
      .map((part) => {
        if (!part.startsWith('{')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(part.slice(1, -1));
        return '([^/]+)';
      })
      .join('');
    compiled = { re: new RegExp(`^${escaped}$`), names };
    templateRegexes.set(template, compiled);
  }
  return compiled;
}

// Query names Proxmox uses are plain identifiers; anything else was not built by the runtime.
const QUERY_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function decodeOrRefuse(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // `%C0` and friends: not UTF-8, so not a name Proxmox could have given us.
    throw new GuardError('refused: a malformed percent-encoding in a path value');
  }
}

/**
 * Refuses anything but a GET whose final URL path is exactly an allowed template with safe values.
 * With `values`, each path segment must also decode to exactly the value that was validated: the URL
 * parser resolves `\`, `..` and `%2e` segments, so a URL can match a template yet name something else.
 */
export function checkRequest(
  method: string,
  url: URL,
  base: URL,
  template: string,
  allowed: ReadonlySet<string>,
  values?: Readonly<Record<string, unknown>>,
): void {
  if (method !== 'GET') throw new GuardError(`refused ${method}: this server only reads`);
  if (!allowed.has(template)) throw new GuardError(`refused: ${template} is not a path any tool may read`);
  if (url.origin !== base.origin) throw new GuardError('refused: the request left the configured host');
  if (url.username !== '' || url.password !== '' || url.hash !== '') throw new GuardError('refused: credentials or a fragment in the URL');
  const prefix = base.pathname.replace(/\/$/, '');
  if (!url.pathname.startsWith(`${prefix}/`)) throw new GuardError('refused: the request left the API base path');
  const rest = url.pathname.slice(prefix.length);
  const { re, names } = templateRegex(template);
  const m = re.exec(rest);
  if (m === null) throw new GuardError(`refused: ${rest} does not match ${template}`);
  names.forEach((name, i) => {
    const value = m[i + 1] ?? '';
    if (!SAFE_SEGMENT.test(value)) throw new GuardError('refused: unsafe characters in a path value');
    const decoded = decodeOrRefuse(value);
    // A backslash only as the `\xHH` escape some APIs write into task IDs
    // (`store1\x3ajob`), which no URL or path parser reads as a separator.
    // eslint-disable-next-line no-control-regex
    if (decoded === '.' || decoded === '..' || /[/\u0000-\u001f\u007f]|\\(?!x[0-9a-fA-F]{2})/.test(decoded)) {
      throw new GuardError('refused: a path value may not be . or .. or hold / \\ or controls');
    }
    if (values !== undefined && decoded !== String(values[name])) throw new GuardError(`refused: the URL does not carry the validated value of ${name}`);
  });
  for (const [name, value] of url.searchParams) {
    if (!QUERY_NAME.test(name)) throw new GuardError('refused: an unexpected query parameter name');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new GuardError('refused: control characters in a query value');
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
  if (has(/TimeoutError|AbortError|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_ABORTED|ETIMEDOUT/)) return { kind: 'timeout', message: 'timed out' };
  if (has(/UND_ERR_RES_EXCEEDED_MAX_SIZE|ResponseExceededMaxSize/)) return { kind: 'too-large', message: 'response too large' };
  if (has(/ERR_TLS_FINGERPRINT_MISMATCH/)) return { kind: 'tls', message: 'the certificate does not match PROXMOX_TLS_FINGERPRINT' };
  const tls = codes.find((c) => /CERT|SELF_SIGNED|TLS|SSL|ERR_TLS|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/.test(c));
  if (tls !== undefined) return { kind: 'tls', message: tls };
  if (has(/GuardError/)) return { kind: 'refused', message: 'refused by the request guard' };
  // fetch refuses a few well-known ports (the WHATWG "bad port" list) before connecting.
  if ([...seen].some((x) => (x as { message?: unknown }).message === 'bad port')) {
    return { kind: 'network', message: 'the port is one HTTP clients refuse to use' };
  }
  const net = codes.find((c) => /^E[A-Z]+$/.test(c) || /^UND_ERR/.test(c));
  return { kind: 'network', message: net === undefined ? 'connection failed' : `${NETWORK_WORDS[net] ?? 'connection failed'}, ${net}` };
}

// undici and Node name failures by code; the model and the operator need words.
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_SOCKET: 'the connection closed before the answer was complete',
  UND_ERR_CLOSED: 'the connection was closed',
  UND_ERR_DESTROYED: 'the connection was closed',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the answer was cut short',
};

export function createUpstream(options: ClientOptions): Upstream {
  const base = new URL(options.baseUrl);
  const auth = authorization(options.api, options.tokenId, options.tokenSecret);
  // A proxy or a broken host may echo the Authorization header into an answer or an error: every
  // text that leaves this process is redacted (src/secrets.ts), and from here on that includes this
  // secret. Answers are redacted value by value once parsed, never as raw JSON text.
  registerSecret(options.tokenSecret);
  const guard: Middleware = {
    onRequest({ request, schemaPath, params }) {
      checkRequest(request.method, new URL(request.url), base, schemaPath, options.allowedTemplates, params.path ?? {});
      request.headers.set('Authorization', auth);
      request.headers.set('Accept', 'application/json');
      // A compressed answer would be inflated past PROXMOX_MAX_RESPONSE_BYTES, which counts bytes received.
      request.headers.set('Accept-Encoding', 'identity');
    },
    async onResponse({ response }) {
      const encoding = response.headers.get('content-encoding');
      if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') {
        await response.body?.cancel();
        throw new GuardError(`refused: a compressed answer (${encoding.slice(0, 20)}) that was not asked for`);
      }
      return undefined;
    },
  };

  type Client = ReturnType<typeof createClient<paths>>;
  interface Connection {
    client: Client;
    close: () => Promise<void>;
  }
  let connection: Promise<Connection> | undefined;
  const connect = (): Promise<Connection> => {
    connection ??= (async () => {
      const http = await import('./http.js');
      const agent = http.createAgent(options.tls, options.limits);
      const client = createClient<paths>({ baseUrl: options.baseUrl, ...http.fetchOptions(agent) });
      client.use(guard);
      return { client, close: () => agent.destroy() };
    })();
    return connection;
  };

  type Answer = Promise<{ data?: string; error?: unknown; response: Response }>;
  // The first request opens the first connection (TCP and TLS). Requests made meanwhile wait until
  // it is free again (undici hands it back to its pool just after the answer has been read) and
  // reuse it, rather than each paying for a handshake of its own at the same moment.
  let opening: Promise<void> | undefined;
  let opened = false;
  const request = (client: Client, call: (client: Client) => Answer, signal: AbortSignal): Answer => {
    if (opened) return call(client);
    if (opening !== undefined && !signal.aborted) {
      const open = opening;
      // A request given up on while waiting is sent at once, to fail with its own abort.
      const free = new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => { resolve(); }, { once: true });
        void open.then(resolve);
      });
      return free.then(() => call(client));
    }
    const answer = call(client);
    const released = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    opening = answer.then(released, released);
    void opening.then(() => {
      opened = true;
    });
    return answer;
  };
  const send = async (call: (client: Client) => Answer, signal: AbortSignal): Promise<UpstreamResult> => {
    try {
      const { data, error, response } = await request((await connect()).client, call, signal);
      // openapi-fetch hands error bodies back already parsed when they are JSON.
      const body = data ?? errorBodyText(error);
      if (body === undefined) return { ok: false, status: response.status, kind: 'invalid-json', message: 'the error answer is nested too deeply to read' };
      const result = await readEnvelope(response.status, response.statusText, body, undefined, options.api.errorBody);
      // Once read: a collection asked for while a long answer is still read in steps would walk it all.
      noteAnswerSize(body.length);
      return result;
    } catch (err) {
      if (err instanceof GuardError) return { ok: false, status: 0, kind: 'refused', message: err.message };
      // encodeURIComponent's answer to a lone UTF-16 surrogate: the argument, not the network, is at fault.
      if (err instanceof URIError) return { ok: false, status: 0, kind: 'invalid-argument', message: 'a text argument holds a lone UTF-16 surrogate, which cannot be sent' };
      // undici reports network failures as "fetch failed" with a cause; anything else is our bug: let it surface.
      if (err instanceof TypeError && err.cause === undefined) throw err;
      const { kind, message } = errorKind(err);
      return { ok: false, status: 0, kind, message };
    }
  };

  return {
    get({ template, path, query, signal }) {
      // The one untyped call: a manifest tool's template is known only at run time. It was checked
      // against the pinned API when the manifest was compiled, and the guard checks every request.
      const get = (client: Client) =>
        (client.GET as unknown as (p: string, init: { params: { path: typeof path; query: typeof query }; parseAs: 'text'; signal: AbortSignal }) => Answer)(template, {
          params: { path, query },
          parseAs: 'text',
          signal,
        });
      return send(get, signal);
    },
    read(known, signal) {
      return send((client) => (known === '/version' ? client.GET('/version', { parseAs: 'text', signal }) : client.GET('/access/permissions', { parseAs: 'text', signal })), signal);
    },
    async close() {
      if (connection !== undefined) await (await connection).close();
    },
  };
}
