// The built-in manifests, one per API, are compiled at build time (src/generated/manifest*.json); a
// custom one (PROXMOX_MCP_TOOLS) is compiled and checked against the API's pinned spec and deny-list
// at start-up.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import prebuiltPve from '../generated/manifest.json' with { type: 'json' };
import prebuiltPbs from '../generated/manifest-pbs.json' with { type: 'json' };
import { DEFAULT_API, type ApiDescription } from '../proxmox/api/index.js';
import type { CompiledManifest } from './compile.js';

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
  return compileManifest(text, JSON.parse(readFileSync(specFile(api), 'utf8')), api);
}
