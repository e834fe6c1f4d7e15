// Composes configuration, manifest, the upstream client and the runtime into what a serving entry
// needs: a factory of MCP servers that all share one upstream client (and so one connection pool),
// one runtime (rate limit, listing cache) and one set of compiled validators. Tests inject `fetch`.
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from './cli/config.js';
import type { Logger } from './logger.js';
import type { CompiledManifest } from './manifest/compile.js';
import { createServerFactory } from './mcp/server.js';
import { createUpstream, type Upstream } from './proxmox/client.js';
import { upstreamOptions } from './proxmox/upstream-options.js';
import { createRuntime } from './tools/runtime.js';

export interface ProxmoxApp {
  /** A fresh MCP server on the shared dependencies: one per connection or request. */
  createServer: () => McpServer;
  upstream: Upstream;
  /** Drops the upstream connections, with any request still running. */
  close(): Promise<void>;
}

export interface ProxmoxServer {
  mcp: McpServer;
  upstream: Upstream;
  close(): Promise<void>;
}

/** The one upstream client for a manifest: stdio and HTTP alike. */
export function createUpstreamFor(config: Config, manifest: CompiledManifest, fetch?: typeof globalThis.fetch): Upstream {
  return createUpstream({ ...upstreamOptions(config, manifest.tools.map((t) => t.path)), ...(fetch ? { fetch } : {}) });
}

export function createProxmoxApp(config: Config, manifest: CompiledManifest, logger: Logger, fetch?: typeof globalThis.fetch): ProxmoxApp {
  const upstream = createUpstreamFor(config, manifest, fetch);
  const runtime = createRuntime(upstream, config, logger);
  return { createServer: createServerFactory({ manifest, runtime, logger, ...(config.api.instructions === undefined ? {} : { instructions: config.api.instructions }) }), upstream, close: () => upstream.close() };
}

/** One MCP server with its own upstream client. */
export function createProxmoxServer(config: Config, manifest: CompiledManifest, logger: Logger, fetch?: typeof globalThis.fetch): ProxmoxServer {
  const app = createProxmoxApp(config, manifest, logger, fetch);
  const mcp = app.createServer();
  return {
    mcp,
    upstream: app.upstream,
    async close() {
      await mcp.close();
      await app.close();
    },
  };
}
