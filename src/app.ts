// Composes configuration, manifest, the upstream client and the runtime into what a serving entry
// needs: a factory of MCP servers that all share one upstream client (and so one connection pool),
// one runtime (rate limit, listing cache) and one set of compiled validators.
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

/** The one upstream client for a manifest: stdio and HTTP alike. */
export function createUpstreamFor(config: Config, manifest: CompiledManifest): Upstream {
  return createUpstream(upstreamOptions(config, manifest.tools.map((t) => t.path)));
}

export function createProxmoxApp(config: Config, manifest: CompiledManifest, logger: Logger): ProxmoxApp {
  const upstream = createUpstreamFor(config, manifest);
  const runtime = createRuntime(upstream, config, logger);
  return { createServer: createServerFactory({ manifest, runtime, logger, ...(config.api.instructions === undefined ? {} : { instructions: config.api.instructions }) }), upstream, close: () => upstream.close() };
}
