// Composes configuration, manifest, the upstream client and the runtime into what a serving entry
// needs: a factory of MCP servers that all share one upstream client (and so one connection pool),
// one runtime (rate limit, listing cache) and one set of compiled validators.
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from './cli/config.js';
import type { Logger } from './logger.js';
import type { CompiledManifest } from './manifest/compile.js';
import { apiCatalogueFor, loadTools } from './manifest/load.js';
import { createServerFactory } from './mcp/server.js';
import { createUpstream, type Upstream } from './proxmox/client.js';
import { checkTokenPrivileges, judgeTokenCheck } from './proxmox/token-check.js';
import { upstreamOptions } from './proxmox/upstream-options.js';
import { combineJudgements, judgeTools, listedTools, partialNotes, type ToolAccess } from './tools/access.js';
import { withClusterArgument } from './tools/clusters.js';
import type { ApiCatalogue } from './tools/api-reader.js';
import { createRuntime, type ClusterTarget } from './tools/runtime.js';

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
  const statusPath = config.api.clusterStatusPath;
  if (statusPath !== undefined && manifest.tools.some((t) => t.generic === 'clusters')) templates.push(statusPath);
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
  const upstreams = new Set([upstream, ...(prepared.clusters ?? []).map((c) => c.upstream)]);
  return {
    createServer: createServerFactory({ manifest: listed, runtime, logger, ...(config.api.instructions === undefined ? {} : { instructions: config.api.instructions }) }),
    upstream,
    close: async () => {
      await Promise.all([...upstreams].map((u) => u.close()));
    },
  };
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

/** Why start-up stopped, and the exit code that says so (2: the manifest or the tool choice, 3: the token). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface PreparedApp {
  app: ProxmoxApp;
  /** How many tools tools/list carries. */
  listed: number;
  /** For the start-up line: the host, or the clusters by name. */
  where: string;
}

export interface PrepareOptions {
  /** Stopping during start-up: the privilege checks' requests are cut and nothing is served. */
  signal?: AbortSignal;
  /** Wraps each cluster's client before anything uses it (HTTP's readiness counts its answers). */
  wrap?: (upstream: Upstream) => Upstream;
  fetch?: typeof globalThis.fetch;
}

/** How long start-up waits for the token's privileges before listing every tool (without the strict setting). */
const STARTUP_CHECK_MS = 3000;

/**
 * Everything start-up does before serving, the same for every transport: the tools the operator
 * chose (toolsets, extra tools) for the configured API, one client per cluster, each cluster's token
 * privileges read once (a token that could change something is warned about, or refused with
 * PROXMOX_REQUIRE_READONLY_TOKEN=true), the tools judged against them, and the app. Undefined when
 * `signal` stopped it.
 */
export async function prepareApp(config: Config, logger: Logger, options: PrepareOptions = {}): Promise<PreparedApp | undefined> {
  let manifest: CompiledManifest;
  try {
    manifest = await loadTools(config, (message) => {
      logger.warn(message);
    });
  } catch (error) {
    throw new StartupError(error instanceof Error ? error.message : String(error), 2);
  }
  const api = apiCatalogueFor(manifest, config.api);
  const wrap = options.wrap ?? ((u: Upstream) => u);
  // One client per cluster; the first is the default (and the only one without PROXMOX_MCP_CLUSTERS).
  const clusters = config.clusters.map((c) => {
    const settings = { ...config, ...c };
    return { name: c.name, settings, upstream: wrap(createProxmoxUpstream(settings, manifest, options.fetch, api)) };
  });
  const closeAll = async (): Promise<void> => {
    await Promise.all(clusters.map((c) => c.upstream.close()));
  };
  const stop = (): void => void closeAll();
  options.signal?.addEventListener('abort', stop, { once: true });
  const many = clusters.length > 1;

  // The token's privileges, read once per cluster before anything is listed: they decide which tools
  // are listed. A host that does not answer soon is not waited for (unless the strict setting asks
  // for the check): its tools are listed, as without the check, and one cluster down stops neither
  // the server nor the others.
  const timeoutMs = config.requireReadonlyToken ? config.requestTimeoutMs : Math.min(config.requestTimeoutMs, STARTUP_CHECK_MS);
  const checks = await Promise.all(clusters.map((c) => checkTokenPrivileges(c.upstream, timeoutMs, c.settings.api)));
  options.signal?.removeEventListener('abort', stop);
  // Stopped while the checks ran: stopping cut their requests, which says nothing of the tokens.
  if (options.signal?.aborted === true) return undefined;
  const refusals: string[] = [];
  checks.forEach((check, i) => {
    const c = clusters[i];
    if (c === undefined) return;
    const which = many ? `cluster ${c.name}: ` : '';
    const verdict = judgeTokenCheck(check, c.settings.tokenId, config.requireReadonlyToken, c.settings.api);
    if (verdict.refuse !== undefined) refusals.push(`${which}${verdict.refuse}`);
    else if (verdict.warn !== undefined) logger.warn(`${which}${verdict.warn}${check.error === undefined ? '' : '; every chosen tool is listed'}`);
    else logger.debug(`${which}token privileges: read-only`);
  });
  if (refusals.length > 0) {
    await closeAll();
    throw new StartupError(refusals.join('\n'), 3);
  }
  const perCluster = checks.map((check) => judgeTools(manifest.tools, check.privileges));
  const judged = combineJudgements(perCluster);
  const unusable = judged.filter((j) => j.missing !== undefined);
  if (unusable.length > 0) {
    logger.info(`${unusable.length} tool(s) ${config.unusableTools === 'hide' ? 'not listed' : 'listed but not usable'}: this token lacks what they need (${unusable.map((j) => j.tool.name).join(', ')}); "proxmox-mcp doctor" says what to grant`);
  }
  const targets = clusters.map((c, i) => ({ name: c.name, upstream: c.upstream, partialRows: partialNotes(perCluster[i] ?? []) }));
  const first = targets[0];
  if (first === undefined) throw new StartupError('no cluster is configured', 2);
  const app = createProxmoxApp(config, manifest, logger, options.fetch, { upstream: first.upstream, judged, ...(api === undefined ? {} : { api }), ...(many ? { clusters: targets } : {}) });
  const where = many ? `${clusters.length} clusters (${clusters.map((c) => c.name).join(', ')})` : `${config.host}:${config.port}`;
  return { app, listed: listedTools(judged, config.unusableTools).length, where };
}
