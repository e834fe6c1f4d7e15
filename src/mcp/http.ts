// Streamable HTTP: `proxmox-mcp http` serves MCP at /mcp for a team, both protocol eras, through the
// SDK's stateless per-request handler. Everything that is heavy (the manifest, the compiled
// validators, the upstream client with its connection pool, the listing cache) is built once; each
// request gets only a fresh McpServer. In front of the handler, in this order: Host and Origin
// allow-lists (DNS rebinding), bearer tokens, a per-client rate, a bound on requests in flight, a
// bound on the body and a deadline; each refusal is a JSON-RPC error body with its HTTP status.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import {
  bearerAuthChallengeResponse,
  createMcpHandler,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  OAuthError,
  OAuthErrorCode,
  validateHostHeader,
  validateOriginHeader,
  verifyBearerToken,
  type AuthInfo,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import { ConfigError, type Config } from '../cli/config.js';
import type { Logger } from '../logger.js';
import type { Upstream, UpstreamResult } from '../proxmox/client.js';
import type { ProxmoxApp } from '../app.js';

type Env = Record<string, string | undefined>;

export interface HttpConfig {
  host: string;
  port: number;
  /** Bearer tokens MCP clients must send; empty only on a loopback address. */
  tokens: string[];
  /** Host header names accepted (port-agnostic); IPv6 in brackets. */
  allowedHosts: string[];
  /** Origin host names accepted when a browser sends an Origin. */
  allowedOrigins: string[];
  maxBodyBytes: number;
  /** MCP requests a client (a token, or an address without one) may send a minute. */
  clientRatePerMinute: number;
  maxInFlight: number;
  /** Deadline for one HTTP request, body and answer. */
  requestTimeoutMs: number;
  /** /readyz is ready when Proxmox answered within this long, or answers a probe now. */
  readyIntervalMs: number;
  tls: { cert: Buffer; key: Buffer } | undefined;
}

export const DEFAULT_LISTEN = '127.0.0.1:8080';
const MIN_TOKEN_LENGTH = 16;

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text.trim());
  const port = m === null ? NaN : Number(m[3]);
  const host = m === null ? '' : (m[1] ?? m[2] ?? '');
  if (m === null || host === '' || !Number.isInteger(port) || port > 65535) {
    throw new ConfigError(`PROXMOX_MCP_HTTP_LISTEN must be HOST:PORT, for example 127.0.0.1:8080 or [::1]:8080 (got "${text}")`);
  }
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function readTokens(env: Env): string[] {
  const tokens = list(env.PROXMOX_MCP_HTTP_TOKENS);
  const file = env.PROXMOX_MCP_HTTP_TOKENS_FILE?.trim();
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`PROXMOX_MCP_HTTP_TOKENS_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    for (const line of text.split(/\r?\n/)) {
      const t = line.trim();
      if (t !== '' && !t.startsWith('#')) tokens.push(t);
    }
  }
  // Tokens are never echoed, not even a bad one: only where it came from and which one it is.
  tokens.forEach((t, i) => {
    if (!/^[\x21-\x7e]+$/.test(t) || t.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(`MCP bearer token ${i + 1} must be at least ${MIN_TOKEN_LENGTH} visible ASCII characters without spaces (for example: openssl rand -hex 32)`);
    }
  });
  return tokens;
}

/** The hostname an allow-list entry names: a bare name, an IPv6 address (bracketed) or a URL's host. */
function hostnameOf(entry: string): string {
  if (entry.includes('://')) {
    try {
      return new URL(entry).hostname.toLowerCase();
    } catch {
      throw new ConfigError(`not a host name or origin: "${entry}"`);
    }
  }
  return isIP(entry) === 6 ? `[${entry}]` : entry.toLowerCase();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = env[name]?.trim();
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${v}")`);
  return n;
}

function readPem(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

export function loadHttpConfig(config: Pick<Config, 'callTimeoutMs'>, env: Env = process.env): HttpConfig {
  const { host, port } = parseListen(env.PROXMOX_MCP_HTTP_LISTEN?.trim() || DEFAULT_LISTEN);
  const tokens = readTokens(env);
  if (tokens.length === 0 && !isLoopback(host)) {
    throw new ConfigError(
      `refusing to listen on ${host}:${port} without a bearer token. Set PROXMOX_MCP_HTTP_TOKENS or PROXMOX_MCP_HTTP_TOKENS_FILE, or listen on 127.0.0.1`,
    );
  }
  const allowedHosts = [...localhostAllowedHostnames(), ...list(env.PROXMOX_MCP_HTTP_ALLOWED_HOSTS).map(hostnameOf)];
  // The address listened on answers to its own name: a client dialling 192.0.2.10:8080 sends that Host.
  if (!isLoopback(host) && host !== '0.0.0.0' && host !== '::') allowedHosts.push(isIP(host) === 6 ? `[${host}]` : host.toLowerCase());
  const allowedOrigins = [...localhostAllowedOrigins(), ...list(env.PROXMOX_MCP_HTTP_ALLOWED_ORIGINS).map(hostnameOf)];
  const cert = env.PROXMOX_MCP_HTTP_CERT?.trim();
  const key = env.PROXMOX_MCP_HTTP_KEY?.trim();
  if ((cert === undefined || cert === '') !== (key === undefined || key === '')) {
    throw new ConfigError('PROXMOX_MCP_HTTP_CERT and PROXMOX_MCP_HTTP_KEY go together: set both (PEM files) for HTTPS, or neither');
  }
  return {
    host,
    port,
    tokens,
    allowedHosts,
    allowedOrigins,
    maxBodyBytes: integer(env, 'PROXMOX_MCP_HTTP_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    clientRatePerMinute: integer(env, 'PROXMOX_MCP_HTTP_RATE_LIMIT', 1200, 1, 10_000_000),
    maxInFlight: integer(env, 'PROXMOX_MCP_HTTP_MAX_IN_FLIGHT', 64, 1, 100_000),
    requestTimeoutMs: integer(env, 'PROXMOX_MCP_HTTP_REQUEST_TIMEOUT_MS', config.callTimeoutMs + 5000, 1000, 3_600_000),
    readyIntervalMs: integer(env, 'PROXMOX_MCP_HTTP_READY_INTERVAL_MS', 30_000, 1000, 3_600_000),
    tls: cert !== undefined && cert !== '' && key !== undefined && key !== '' ? { cert: readPem('PROXMOX_MCP_HTTP_CERT', cert), key: readPem('PROXMOX_MCP_HTTP_KEY', key) } : undefined,
  };
}

/** A JSON-RPC error answer for a request refused before it reached the protocol handler. */
function refuse(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Token buckets per client, refilled smoothly; idle clients are forgotten. */
function createClientRate(perMinute: number): (client: string) => boolean {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (client) => {
    const now = Date.now();
    if (buckets.size > 10_000) for (const [k, b] of buckets) if (now - b.at > 60_000) buckets.delete(k);
    const b = buckets.get(client) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) / 60_000) * perMinute);
    b.at = now;
    buckets.set(client, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
}

/** Compares a presented token with every configured one in constant time (digests of equal length). */
function createTokenVerifier(tokens: string[]): (token: string) => Promise<AuthInfo> {
  const digest = (t: string): Buffer => createHash('sha256').update(t).digest();
  const known = tokens.map(digest);
  return (token) => {
    const presented = digest(token);
    let match = -1;
    known.forEach((k, i) => {
      if (timingSafeEqual(k, presented) && match < 0) match = i;
    });
    if (match < 0) return Promise.reject(new OAuthError(OAuthErrorCode.InvalidToken, 'The bearer token is not one this server accepts'));
    // Static tokens do not expire; the SDK's check wants an expiry, so each check grants an hour.
    return Promise.resolve({ token, clientId: `token ${match + 1}`, scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 });
  };
}

/** What a request asked for, for the access log: its JSON-RPC method and tool, names only. */
function describeBody(body: unknown): { method: string; tool: string } {
  const name = (v: unknown): string => (typeof v === 'string' && /^[\w./-]{1,64}$/.test(v) ? v : '?');
  const first: unknown = Array.isArray(body) ? body[0] : body;
  if (typeof first !== 'object' || first === null) return { method: '-', tool: '-' };
  const msg = first as { method?: unknown; params?: { name?: unknown } };
  const method = 'method' in msg ? name(msg.method) : 'response';
  const tool = method === 'tools/call' ? name(msg.params?.name) : '-';
  return { method: Array.isArray(body) && body.length > 1 ? `${method}+${String(body.length - 1)}` : method, tool };
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return 'too-large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function toWebRequest(req: IncomingMessage, url: string, body: Buffer | undefined, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '');
  return new Request(url, { method: req.method ?? 'GET', headers, signal, ...(body === undefined || body.length === 0 ? {} : { body }) });
}

/**
 * Copies a web Response to Node's. The status goes out with the first bytes of the body: an SSE
 * answer is 200 from its start, and until its first event a deadline can still answer 504 instead.
 */
async function sendWebResponse(res: ServerResponse, response: Response, signal?: AbortSignal): Promise<void> {
  const reader = response.body?.getReader();
  let chunk = reader === undefined ? undefined : await reader.read();
  if (signal?.aborted === true || res.headersSent || res.destroyed) {
    void reader?.cancel();
    return;
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers);
  while (chunk !== undefined && !chunk.done && reader !== undefined) {
    if (!res.writable) {
      void reader.cancel();
      return;
    }
    if (!res.write(chunk.value)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    chunk = await reader.read();
  }
  res.end();
}

/** When Proxmox last answered: every client it wraps counts its successful answers. */
export function createAnswerTracker(): { track: (upstream: Upstream) => Upstream; lastAnswer: () => number } {
  let last = 0;
  const seen = (result: UpstreamResult): UpstreamResult => {
    if (result.ok) last = Date.now();
    return result;
  };
  return {
    track: (upstream) => ({
      get: async (request) => seen(await upstream.get(request)),
      read: async (path, signal) => seen(await upstream.read(path, signal)),
      close: () => upstream.close(),
    }),
    lastAnswer: () => last,
  };
}

export interface HttpDeps {
  config: Config;
  http: HttpConfig;
  logger: Logger;
  /**
   * The prepared app (src/app.ts prepareApp), as stdio serves it: its factory makes the McpServer of
   * each request, its default cluster's client answers /readyz probes, and closing it closes every
   * client.
   */
  app: Pick<ProxmoxApp, 'createServer' | 'upstream' | 'close'>;
  /** When Proxmox last answered a call (createAnswerTracker); without it /readyz always probes. */
  lastAnswer?: () => number;
}

export interface RunningHttpServer {
  server: Server;
  url: string;
  readonly inFlight: number;
  /** Stops accepting, lets requests in flight finish within `drainMs`, then closes everything. */
  close(drainMs: number): Promise<void>;
}

export async function startHttpServer({ config, http, logger, app, lastAnswer = () => 0 }: HttpDeps): Promise<RunningHttpServer> {
  // Schemas and compiled validators once; per request only McpServer and its registration loop.
  const handler: McpHttpHandler = createMcpHandler(app.createServer, {
    maxRequestBodySize: http.maxBodyBytes,
    onerror: (error) => {
      logger.debug(`mcp handler: ${error.message}`);
    },
  });
  const verify = createTokenVerifier(http.tokens);
  const allowed = createClientRate(http.clientRatePerMinute);
  let inFlight = 0;
  let stopping = false;
  let drained: (() => void) | undefined;

  let probe: Promise<boolean> | undefined;
  const ready = async (): Promise<boolean> => {
    if (Date.now() - lastAnswer() < http.readyIntervalMs) return true;
    probe ??= app.upstream
      .read(config.api.versionPath, AbortSignal.timeout(Math.min(config.requestTimeoutMs, 5000)))
      .then((r) => r.ok)
      .finally(() => {
        probe = undefined;
      });
    return probe;
  };

  const serveMcp = async (req: IncomingMessage, res: ServerResponse, client: string, log: { method: string; tool: string; who: string }): Promise<void> => {
    const host = validateHostHeader(req.headers.host, http.allowedHosts);
    if (!host.ok) {
      refuse(res, 403, -32000, 'Forbidden: the Host header is not one this server answers to (set PROXMOX_MCP_HTTP_ALLOWED_HOSTS to add it)');
      return;
    }
    const origin = validateOriginHeader(req.headers.origin, http.allowedOrigins);
    if (!origin.ok) {
      refuse(res, 403, -32000, 'Forbidden: requests from this Origin are not allowed (set PROXMOX_MCP_HTTP_ALLOWED_ORIGINS to add it)');
      return;
    }
    let authInfo: AuthInfo | undefined;
    if (http.tokens.length > 0) {
      try {
        authInfo = await verifyBearerToken(req.headers.authorization, { verifier: { verifyAccessToken: verify } });
      } catch (error) {
        await sendWebResponse(res, bearerAuthChallengeResponse(error));
        return;
      }
      log.who = authInfo.clientId;
    }
    if (!allowed(authInfo?.clientId ?? client)) {
      refuse(res, 429, -32000, `Too many requests: this client may send ${http.clientRatePerMinute} a minute. Wait a few seconds and retry.`, { 'retry-after': '5' });
      return;
    }
    if (inFlight >= http.maxInFlight) {
      refuse(res, 503, -32000, `Server busy: ${http.maxInFlight} requests are in flight. Retry in a moment.`, { 'retry-after': '1' });
      return;
    }
    inFlight++;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
      if (!res.headersSent) refuse(res, 504, -32001, `Request timed out after ${Math.round(http.requestTimeoutMs / 1000)} s. Ask for less, or retry later.`);
      else res.destroy();
    }, http.requestTimeoutMs);
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    try {
      const hasBody = req.method === 'POST';
      const body = hasBody ? await readBody(req, http.maxBodyBytes) : undefined;
      if (body === 'too-large') {
        refuse(res, 413, -32000, `Request body larger than ${http.maxBodyBytes} bytes (PROXMOX_MCP_HTTP_MAX_BODY_BYTES)`, { connection: 'close' });
        return;
      }
      let parsedBody: unknown;
      if (body !== undefined) {
        try {
          parsedBody = JSON.parse(body.toString('utf8'));
          Object.assign(log, describeBody(parsedBody));
        } catch {
          parsedBody = undefined; // the handler answers the parse error itself
        }
      }
      const request = toWebRequest(req, `http://${host.hostname}${req.url ?? '/mcp'}`, body, controller.signal);
      let response: Response;
      try {
        response = await handler.fetch(request, { ...(authInfo === undefined ? {} : { authInfo }), ...(parsedBody === undefined ? {} : { parsedBody }) });
      } catch (error) {
        // Timed out or the client went away: already answered, or no one left to answer.
        if (controller.signal.aborted) return;
        throw error;
      }
      if (controller.signal.aborted) return;
      await sendWebResponse(res, response, controller.signal);
    } finally {
      clearTimeout(timer);
      inFlight--;
      if (stopping && inFlight === 0) drained?.();
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const client = req.socket.remoteAddress ?? '?';
    const log = { method: '-', tool: '-', who: '-' };
    const path = (req.url ?? '/').split('?')[0];
    res.once('close', () => {
      const ms = (performance.now() - started).toFixed(1);
      logger.info(`http ${client} ${log.who} ${req.method ?? '?'} ${path === '/mcp' || path === '/healthz' || path === '/readyz' ? path : 'other'} ${log.method} ${log.tool} ${res.statusCode} ${ms}ms`);
    });
    const done = (error: unknown): void => {
      logger.error(`http: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) refuse(res, 500, -32603, 'Internal error; see the server log');
      else res.destroy();
    };
    if (stopping) {
      refuse(res, 503, -32000, 'Server is shutting down; retry against another instance', { connection: 'close' });
      return;
    }
    if (path === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"alive"}');
      return;
    }
    if (path === '/readyz' && req.method === 'GET') {
      ready().then(
        (ok) => {
          res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(ok ? '{"status":"ready"}' : '{"status":"proxmox-unreachable"}');
        },
        done,
      );
      return;
    }
    if (path !== '/mcp') {
      refuse(res, 404, -32000, 'Not found: the MCP endpoint is /mcp');
      return;
    }
    serveMcp(req, res, client, log).catch(done);
  };

  const server = http.tls === undefined ? createHttpServer(onRequest) : createHttpsServer({ cert: http.tls.cert, key: http.tls.key }, onRequest);
  // Node's own deadline comes after ours, so that a late answer gets our JSON-RPC 504, not a reset.
  server.requestTimeout = http.requestTimeoutMs + 2000;
  server.headersTimeout = Math.min(http.requestTimeoutMs, 30_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(http.port, http.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : http.port;
  const shownHost = isIP(http.host) === 6 ? `[${http.host}]` : http.host;
  const url = `${http.tls === undefined ? 'http' : 'https'}://${shownHost}:${port}/mcp`;

  return {
    server,
    url,
    get inFlight() {
      return inFlight;
    },
    async close(drainMs) {
      stopping = true;
      server.close();
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, drainMs).unref();
        });
      }
      server.closeAllConnections();
      await handler.close();
      await app.close();
    },
  };
}

/** `proxmox-mcp http`: serves until SIGTERM or SIGINT, then drains and exits 0. */
export async function runHttp(deps: HttpDeps, shown: { listed: number; where: string }): Promise<void> {
  const { config, http, logger } = deps;
  const running = await startHttpServer(deps);
  logger.info(
    `serving ${shown.listed} read-only tools for ${shown.where} at ${running.url} (${http.tokens.length > 0 ? `${http.tokens.length} bearer token(s)` : 'no bearer token: loopback only'})`,
  );
  if (!isLoopback(http.host) && http.tls === undefined) {
    logger.warn('listening beyond loopback without TLS: bearer tokens cross the network in clear. Put a TLS reverse proxy in front, or set PROXMOX_MCP_HTTP_CERT and PROXMOX_MCP_HTTP_KEY.');
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: no new requests; finishing ${running.inFlight} in flight`);
    void running.close(config.callTimeoutMs + 1000).finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}
