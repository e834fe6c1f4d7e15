// The built-in manifests, one per API, are compiled at build time (src/generated/manifest*.json); a
// custom one (PROXMOX_MCP_TOOLS) is compiled and checked against the API's pinned spec and deny-list
// at start-up.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import prebuiltPve from '../generated/manifest.json' with { type: 'json' };
import prebuiltPbs from '../generated/manifest-pbs.json' with { type: 'json' };
import { DEFAULT_API, type ApiDescription } from '../proxmox/api/index.js';
import type { CompiledManifest, CompiledTool } from './compile.js';
import { chooseTools, type ToolChoice } from './toolsets.js';
import { ApiCatalogue, apiTools } from '../tools/api-reader.js';
import { clustersTool } from '../tools/clusters.js';

const PREBUILT: Record<string, unknown> = { pve: prebuiltPve, pbs: prebuiltPbs };

/** The package's own folder: the source tree (src/manifest/) and the bundle (dist/) sit at different depths below it. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'spec'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('proxmox-mcp: cannot find the package folder (with spec/) above the server');
    dir = up;
  }
  return dir;
}

/** The pinned schema of an API, in the package folder. */
export function specFile(api: ApiDescription): string {
  return join(packageRoot(), api.specFile);
}

export async function loadManifest(toolsFile: string | undefined, api: ApiDescription = DEFAULT_API): Promise<CompiledManifest> {
  if (toolsFile === undefined) {
    // Each API's built-in manifest is compiled against its own pin; an API without one brings its own.
    const prebuilt = PREBUILT[api.id];
    if (prebuilt === undefined) throw new Error(`there is no built-in manifest for ${api.product}: set PROXMOX_MCP_TOOLS to a tools.yaml written for its API`);
    return prebuilt as CompiledManifest;
  }
  const { compileManifest } = await import('./compile.js');
  let text: string;
  try {
    text = readFileSync(toolsFile, 'utf8');
  } catch {
    throw new Error(`PROXMOX_MCP_TOOLS: cannot read ${toolsFile}`);
  }
  return compileManifest(text, JSON.parse(readFileSync(specFile(api), 'utf8')), api, toolsFile);
}

export interface ToolSources {
  api: ApiDescription;
  /** More than one cluster adds get_clusters. */
  clusters: readonly unknown[];
  toolsFile: string | undefined;
  extraToolsFile: string | undefined;
  tools: ToolChoice;
}

/**
 * An operator's own tools on top of the built-in ones (PROXMOX_MCP_EXTRA_TOOLS), checked against
 * the pin like the built-in ones: a tool whose name is taken replaces that tool, and `note` says so.
 */
async function addExtraTools(tools: CompiledTool[], file: string, api: ApiDescription, note: (message: string) => void): Promise<CompiledTool[]> {
  const { compileManifest } = await import('./compile.js');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`PROXMOX_MCP_EXTRA_TOOLS: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const extra = compileManifest(text, JSON.parse(readFileSync(specFile(api), 'utf8')), api, file).tools;
  const byName = new Map(extra.map((t) => [t.name, t]));
  const out = tools.map((t) => {
    const own = byName.get(t.name);
    if (own === undefined) return t;
    note(`PROXMOX_MCP_EXTRA_TOOLS: ${file} replaces the built-in tool ${t.name}`);
    byName.delete(t.name);
    return own;
  });
  return [...out, ...byName.values()];
}

/** The manifest (built-in or custom, plus the operator's own tools) and the generic `api` tools, narrowed to what the operator chose. */
export async function loadTools(sources: ToolSources, note: (message: string) => void = () => undefined): Promise<CompiledManifest> {
  let { tools } = await loadManifest(sources.toolsFile, sources.api);
  if (sources.extraToolsFile !== undefined) tools = await addExtraTools(tools, sources.extraToolsFile, sources.api, note);
  const builtIn = sources.clusters.length > 1 ? [clustersTool(), ...tools] : tools;
  return { tools: chooseTools([...builtIn, ...apiTools()], sources.tools) };
}

/** The pinned API's endpoints, read only when a generic tool of the `api` toolset is chosen. */
export function apiCatalogueFor(manifest: CompiledManifest, api: ApiDescription): ApiCatalogue | undefined {
  return manifest.tools.some((t) => t.generic !== undefined) ? ApiCatalogue.load(specFile(api), api) : undefined;
}
