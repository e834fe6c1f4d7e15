// The one place that decides how we trust a Proxmox host. The server and `spec:pull` both use it,
// so a CA file, a pinned fingerprint and the insecure switch behave the same everywhere.
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, fetch as undiciFetch, Request as UndiciRequest, type Response as UndiciResponse } from 'undici';
import { FINGERPRINT_FORM, parseFingerprint } from './fingerprint.js';

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

class FingerprintMismatchError extends Error {
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
  const connect: buildConnector.connector =
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
  return new Agent({
    connect,
    connections: limits.connections ?? 8,
    headersTimeout: limits.requestTimeoutMs ?? 15_000,
    bodyTimeout: limits.requestTimeoutMs ?? 15_000,
    keepAliveTimeout: 30_000,
    maxResponseSize: limits.maxResponseBytes ?? 16 * 1024 * 1024,
  });
}

/**
 * What openapi-fetch needs to send through `agent`, as its documentation says: a fetch and a Request
 * class (undici's own, which the agent serves), and the agent as the dispatcher of every request.
 */
export function fetchOptions(agent: Agent): { fetch: (input: Request) => Promise<Response>; Request: typeof Request; requestInitExt: { dispatcher: Agent } } {
  // undici's types declare its WHATWG classes apart from Node's global ones; they are the same API.
  return {
    fetch: undiciFetch as unknown as (input: Request) => Promise<Response>,
    Request: UndiciRequest as unknown as typeof Request,
    requestInitExt: { dispatcher: agent },
  };
}

/** undici's fetch over `agent`, for `spec:pull`: the same TLS rules and limits as the server. */
export function createFetch(agent: Agent): (url: string | URL, init?: { headers?: Record<string, string>; signal?: AbortSignal }) => Promise<UndiciResponse> {
  return (url, init = {}) => undiciFetch(url, { ...init, dispatcher: agent });
}
