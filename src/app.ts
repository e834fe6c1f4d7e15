// The server factory: configuration and transport in, a ready MCP server out. Tests inject `fetch`
// and a manifest; the entry point passes the real ones.
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from './cli/config.js';
import type { Logger } from './logger.js';
import type { CompiledManifest } from './manifest/compile.js';
import { createMcpServer } from './mcp/server.js';
import { createUpstream, type Upstream } from './proxmox/client.js';
import { upstreamOptions } from './proxmox/upstream-options.js';
import { createRuntime } from './tools/runtime.js';

export interface ProxmoxServer {
  mcp: McpServer;
  upstream: Upstream;
  close(): Promise<void>;
}

export function createProxmoxServer(config: Config, manifest: CompiledManifest, logger: Logger, fetch?: typeof globalThis.fetch): ProxmoxServer {
  const upstream = createUpstream({ ...upstreamOptions(config, manifest.tools.map((t) => t.path)), ...(fetch ? { fetch } : {}) });
  const runtime = createRuntime(upstream, config, logger);
  const mcp = createMcpServer({ manifest, runtime, logger, ...(config.api.instructions === undefined ? {} : { instructions: config.api.instructions }) });
  return {
    mcp,
    upstream,
    async close() {
      await mcp.close();
      await upstream.close();
    },
  };
}
