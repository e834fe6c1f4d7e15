// The built-in manifest is compiled at build time (src/generated/manifest.json); a custom one
// (PROXMOX_MCP_TOOLS) is compiled and checked against the pinned spec at start-up.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import prebuilt from '../generated/manifest.json' with { type: 'json' };
import type { CompiledManifest } from './compile.js';
import { chooseTools, type ToolChoice } from './toolsets.js';
import { ApiCatalogue, apiTools } from '../tools/api-reader.js';

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

export const SPEC_FILE = join(packageRoot(), 'spec', 'proxmox-ve.openapi.json');

export async function loadManifest(toolsFile: string | undefined): Promise<CompiledManifest> {
  if (toolsFile === undefined) return prebuilt as unknown as CompiledManifest;
  const { compileManifest } = await import('./compile.js');
  let text: string;
  try {
    text = readFileSync(toolsFile, 'utf8');
  } catch {
    throw new Error(`PROXMOX_MCP_TOOLS: cannot read ${toolsFile}`);
  }
  return compileManifest(text, JSON.parse(readFileSync(SPEC_FILE, 'utf8')));
}

export interface ToolSources {
  toolsFile: string | undefined;
  tools: ToolChoice;
}

/** The manifest (built-in or custom) and the generic `api` tools, narrowed to the toolsets and tools the operator chose. */
export async function loadTools(sources: ToolSources): Promise<CompiledManifest> {
  const manifest = await loadManifest(sources.toolsFile);
  return { tools: chooseTools([...manifest.tools, ...apiTools()], sources.tools) };
}

/** The pinned API's endpoints, read only when a generic tool of the `api` toolset is chosen. */
export function apiCatalogueFor(manifest: CompiledManifest): ApiCatalogue | undefined {
  return manifest.tools.some((t) => t.generic !== undefined) ? ApiCatalogue.load(SPEC_FILE) : undefined;
}
