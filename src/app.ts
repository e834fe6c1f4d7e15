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
import { judgeTools, listedTools, partialNote, type ToolAccess } from './tools/access.js';
import type { ApiCatalogue } from './tools/api-reader.js';
import { apiCatalogueFor } from './manifest/load.js';

export interface ProxmoxServer {
  mcp: McpServer;
  upstream: Upstream;
  close(): Promise<void>;
}

export function baseUrl(config: Pick<Config, 'host' | 'port'>): string {
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  return `https://${host}:${config.port}/api2/json`;
}

/** The guarded client for one Proxmox host: only the manifest's templates (and the start-up checks') can be reached. */
export function createProxmoxUpstream(config: Config, manifest: CompiledManifest, fetch?: typeof globalThis.fetch, api?: ApiCatalogue): Upstream {
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
    allowedTemplates: new Set([...manifest.tools.filter((t) => t.generic === undefined).map((t) => t.path), ...(api?.endpoints.map((e) => e.template) ?? []), PERMISSIONS_PATH, '/version']),
    ...(fetch ? { fetch } : {}),
  });
}

/**
 * `judged`: the tools with what the token lacks for each (src/tools/access.ts), from the privileges
 * read at start-up; without it every tool is listed and no answer speaks of permissions.
 */
export function createProxmoxServer(
  config: Config,
  manifest: CompiledManifest,
  logger: Logger,
  fetch?: typeof globalThis.fetch,
  prepared: { upstream?: Upstream; judged?: ToolAccess[]; api?: ApiCatalogue } = {},
): ProxmoxServer {
  const api = prepared.api ?? apiCatalogueFor(manifest);
  const upstream = prepared.upstream ?? createProxmoxUpstream(config, manifest, fetch, api);
  const judged = prepared.judged ?? judgeTools(manifest.tools, undefined);
  const partialRows = new Map(judged.flatMap((j) => (j.partial === undefined ? [] : [[j.tool.name, partialNote(j.partial)] as const])));
  const runtime = createRuntime(upstream, config, logger, { partialRows, ...(api === undefined ? {} : { api }) });
  const mcp = createMcpServer({ manifest: { tools: listedTools(judged, config.unusableTools) }, runtime, logger });
  return {
    mcp,
    upstream,
    async close() {
      await mcp.close();
      await upstream.close();
    },
  };
}
