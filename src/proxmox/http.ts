// The one place that decides how we trust a Proxmox host. The server and `spec:pull` both use it,
// so a CA file, a pinned fingerprint and the insecure switch behave the same everywhere.
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { Agent, buildConnector as BuildConnector } from 'undici';
// Only the parts of undici the server uses: the package index would also load fetch, WebSocket,
// cookies, caches and mocks (about 50 ms and half the bundle's undici code).
import AgentClass from 'undici/lib/dispatcher/agent.js';
import buildConnector from 'undici/lib/core/connect.js';
import request from 'undici/lib/api/api-request.js';
import { FINGERPRINT_FORM, parseFingerprint } from './fingerprint.js';
import { PlainHeaders } from './plain-headers.js';

export interface TlsSettings {
  /** Verify the certificate chain and host name (default true). */
  verify: boolean;
  /** PEM file with the CA (or the self-signed certificate) to trust. */
  caFile?: string | undefined;
  /** SHA-256 fingerprint of the host certificate, as the Proxmox UI shows it. */
  fingerprint?: string | undefined;
}

export interface AgentLimits {
  /** Upper bound on simultaneous upstream connections (and so requests). */
  connections?: number;
  /** Time to establish TCP + TLS. */
  connectTimeoutMs?: number;
  /** Time to wait for response headers, and between body chunks. */
  requestTimeoutMs?: number;
  /** Largest response body read; larger ones abort the request. */
  maxResponseBytes?: number;
}

/** Accepts `AA:BB:...`, `aabb...` or `sha256/AA:BB...`; returns 64 lowercase hex digits. */
export function normaliseFingerprint(input: string): string {
  const hex = parseFingerprint(input);
  if (hex === undefined) throw new Error(`PROXMOX_TLS_FINGERPRINT must be ${FINGERPRINT_FORM}`);
  return hex;
}

export class FingerprintMismatchError extends Error {
  override readonly name = 'FingerprintMismatchError';
  readonly code = 'ERR_TLS_FINGERPRINT_MISMATCH';
  constructor(readonly presented: string) {
    super('the host certificate does not match PROXMOX_TLS_FINGERPRINT');
  }
}

function formatFingerprint(hex: string): string {
  return (hex.match(/../g) ?? []).join(':').toUpperCase();
}

/** Builds the TLS part of the connection options; reads the CA file once. */
function connectOptions(settings: TlsSettings): { ca?: string; rejectUnauthorized: boolean } {
  // With a pinned fingerprint the chain is not what we trust: the exact certificate is.
  const pinned = settings.fingerprint !== undefined;
  const options: { ca?: string; rejectUnauthorized: boolean } = {
    rejectUnauthorized: settings.verify && !pinned,
  };
  if (settings.caFile !== undefined) options.ca = readFileSync(settings.caFile, 'utf8');
  return options;
}

export function createAgent(settings: TlsSettings, limits: AgentLimits = {}): Agent {
  const pinned = settings.fingerprint === undefined ? undefined : normaliseFingerprint(settings.fingerprint);
  const base = buildConnector({
    ...connectOptions(settings),
    timeout: limits.connectTimeoutMs ?? 10_000,
    // A resumed session can skip the certificate: every connection must show it.
    maxCachedSessions: pinned === undefined ? 100 : 0,
  });
  const connect: BuildConnector.connector =
    pinned === undefined
      ? base
      : (options, callback) => {
          base(options, (error, socket) => {
            if (error !== null) {
              callback(error, null);
              return;
            }
            const cert = (socket as TLSSocket).getPeerCertificate();
            const presented = cert.fingerprint256.replace(/:/g, '').toLowerCase();
            if (presented !== pinned) {
              socket.destroy();
              callback(new FingerprintMismatchError(formatFingerprint(presented)), null);
              return;
            }
            callback(null, socket);
          });
        };
  return new AgentClass({
    connect,
    connections: limits.connections ?? 8,
    headersTimeout: limits.requestTimeoutMs ?? 15_000,
    bodyTimeout: limits.requestTimeoutMs ?? 15_000,
    keepAliveTimeout: 30_000,
    maxResponseSize: limits.maxResponseBytes ?? 16 * 1024 * 1024,
  });
}

/**
 * What openapi-fetch builds for each call when given this class instead of the WHATWG Request: only
 * what the request guard and `createFetch` read. A WHATWG Request costs tens of microseconds a call
 * (signal following, body and URL machinery) for nothing here, and loads Node's built-in fetch.
 */
export class PlainRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: PlainHeaders;
  readonly signal: AbortSignal | undefined;

  constructor(input: string | URL, init: RequestInit = {}) {
    this.url = String(input);
    this.method = (init.method ?? 'GET').toUpperCase();
    this.headers = new PlainHeaders(init.headers as Iterable<[string, string]> | Record<string, string> | undefined);
    this.signal = init.signal ?? undefined;
  }
}

/** What openapi-fetch and the client read of an answer whose body was read as text. */
interface TextResponse {
  status: number;
  statusText: string;
  ok: boolean;
  headers: PlainHeaders;
  text(): Promise<string>;
}

/**
 * A `fetch` bound to one agent, for openapi-fetch and for `spec:pull`. It sends with undici's
 * `request` (no WHATWG stream machinery per call). By default the body is read once as text and the
 * answer is a small object with what openapi-fetch reads (status, ok, headers, `text()` handing that
 * string back), so a large answer is not encoded into a stream and decoded again, and Node's
 * built-in fetch is never loaded; `bytes: true` (spec:pull) answers a real `Response` holding the
 * exact bytes received.
 */
export function createFetch(agent: Agent, { bytes = false }: { bytes?: boolean } = {}): typeof globalThis.fetch {
  return (async (input: Request | PlainRequest | URL | string, init?: RequestInit) => {
    // Not `instanceof Request`: naming the global would load Node's built-in fetch.
    const req =
      input instanceof PlainRequest
        ? input
        : typeof input === 'string' || input instanceof URL
          ? new PlainRequest(input, init)
          : new PlainRequest(input.url, { method: input.method, headers: input.headers, signal: input.signal });
    const url = new URL(req.url);
    const res = await request.call(agent, {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers: Object.fromEntries(req.headers),
      signal: req.signal,
    });
    const noBody = res.statusCode === 204 || res.statusCode === 304;
    if (bytes) {
      const headers: [string, string][] = [];
      for (const [k, v] of Object.entries(res.headers)) {
        if (typeof v === 'string') headers.push([k, v]);
        else if (Array.isArray(v)) for (const one of v) headers.push([k, one]);
      }
      return new Response(noBody ? null : Buffer.from(await res.body.arrayBuffer()), { status: res.statusCode, statusText: res.statusText, headers });
    }
    const body = await res.body.text();
    const text = noBody ? '' : body;
    const response: TextResponse = {
      status: res.statusCode,
      statusText: res.statusText,
      ok: res.statusCode >= 200 && res.statusCode <= 299,
      headers: PlainHeaders.received(res.headers),
      text: () => Promise.resolve(text),
    };
    return response as unknown as Response;
  });
}
