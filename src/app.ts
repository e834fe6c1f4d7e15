// Composes configuration, manifest, the upstream client and the runtime into what a serving entry
// needs: a factory of MCP servers that all share one upstream client (and so one connection pool),
// one runtime (rate limit, listing cache) and one set of compiled validators. Tests inject `fetch`.
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from './cli/config.js';
import type { Logger } from './logger.js';
import type { CompiledManifest } from './manifest/compile.js';
import { apiCatalogueFor } from './manifest/load.js';
import { createServerFactory } from './mcp/server.js';
import { createUpstream, type Upstream } from './proxmox/client.js';
import { upstreamOptions } from './proxmox/upstream-options.js';
import { judgeTools, listedTools, partialNotes, type ToolAccess } from './tools/access.js';
import { withClusterArgument } from './tools/clusters.js';
import type { ApiCatalogue } from './tools/api-reader.js';
import { CLUSTER_STATUS, createRuntime, type ClusterTarget } from './tools/runtime.js';

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

/** What start-up learnt before serving: the token's view of the tools, and the pinned API for the `api` toolset. */
export interface Prepared {
  upstream?: Upstream;
  /** The tools with what the token lacks for each (src/tools/access.ts); without it every tool is listed. */
  judged?: ToolAccess[];
  api?: ApiCatalogue;
  /** With more than one cluster: each one's client and notes (the first is the default). */
  clusters?: ClusterTarget[];
}

/** The guarded client for one host: only the tools' templates (every GET of the pin, with the `api` toolset) can be reached. */
export function createProxmoxUpstream(config: Config, manifest: CompiledManifest, fetch?: typeof globalThis.fetch, api?: ApiCatalogue): Upstream {
  const templates = [...manifest.tools.filter((t) => t.generic === undefined).map((t) => t.path), ...(api?.endpoints.map((e) => e.template) ?? [])];
  if (manifest.tools.some((t) => t.generic === 'clusters')) templates.push(CLUSTER_STATUS);
  return createUpstream({ ...upstreamOptions(config, templates), ...(fetch ? { fetch } : {}) });
}

export function createProxmoxApp(config: Config, manifest: CompiledManifest, logger: Logger, fetch?: typeof globalThis.fetch, prepared: Prepared = {}): ProxmoxApp {
  const api = prepared.api ?? apiCatalogueFor(manifest, config.api);
  const upstream = prepared.upstream ?? createProxmoxUpstream(config, manifest, fetch, api);
  const judged = prepared.judged ?? judgeTools(manifest.tools, undefined);
  const partialRows = partialNotes(judged);
  const runtime = createRuntime(upstream, config, logger, { partialRows, ...(api === undefined ? {} : { api }), ...(prepared.clusters === undefined ? {} : { clusters: prepared.clusters }) });
  const names = config.clusters.map((c) => c.name);
  const tools = listedTools(judged, config.unusableTools);
  // One cluster: tools/list as ever. More: every tool names its cluster.
  const listed = { tools: names.length > 1 ? tools.map((t) => withClusterArgument(t, names)) : tools };
  return { createServer: createServerFactory({ manifest: listed, runtime, logger }), upstream, close: () => upstream.close() };
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
