// The server factory: configuration and transport in, a ready MCP server out. Tests inject `fetch`
// and a manifest; the entry point passes the real ones.
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from './cli/config.js';
import type { Logger } from './logger.js';
import type { CompiledManifest } from './manifest/compile.js';
import { createMcpServer } from './mcp/server.js';
import { createUpstream, type Upstream } from './proxmox/client.js';
import { createRuntime } from './tools/runtime.js';
import { PERMISSIONS_PATH } from './proxmox/token-check.js';

export interface ProxmoxServer {
  mcp: McpServer;
  upstream: Upstream;
  close(): Promise<void>;
}

export function baseUrl(config: Pick<Config, 'host' | 'port'>): string {
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  return `https://${host}:${config.port}/api2/json`;
}

/** The one upstream client for a manifest: stdio and HTTP alike. */
export function createUpstreamFor(config: Config, manifest: CompiledManifest, fetch?: typeof globalThis.fetch): Upstream {
  return createUpstream({
    baseUrl: baseUrl(config),
    tokenId: config.tokenId,
    tokenSecret: config.tokenSecret,
    tls: { verify: config.verifySsl, caFile: config.caFile, fingerprint: config.fingerprint },
    limits: {
      connections: config.maxConcurrency,
      requestTimeoutMs: config.requestTimeoutMs,
      connectTimeoutMs: Math.min(config.requestTimeoutMs, 10_000),
      maxResponseBytes: config.maxResponseBytes,
    },
    allowedTemplates: new Set([...manifest.tools.map((t) => t.path), PERMISSIONS_PATH, '/version']),
    ...(fetch ? { fetch } : {}),
  });
}

export function createProxmoxServer(config: Config, manifest: CompiledManifest, logger: Logger, fetch?: typeof globalThis.fetch): ProxmoxServer {
  const upstream = createUpstreamFor(config, manifest, fetch);
  const runtime = createRuntime(upstream, config, logger);
  const mcp = createMcpServer({ manifest, runtime, logger });
  return {
    mcp,
    upstream,
    async close() {
      await mcp.close();
      await upstream.close();
    },
  };
}
