// The built-in manifest is compiled at build time (src/generated/manifest.json); a custom one
// (PROXMOX_MCP_TOOLS) is compiled and checked against the pinned spec at start-up.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import prebuilt from './generated/manifest.json' with { type: 'json' };
import type { CompiledManifest } from './manifest.js';

export const SPEC_FILE = fileURLToPath(new URL('../spec/proxmox-ve.openapi.json', import.meta.url));

export async function loadManifest(toolsFile: string | undefined): Promise<CompiledManifest> {
  if (toolsFile === undefined) return prebuilt as unknown as CompiledManifest;
  const { compileManifest } = await import('./manifest.js');
  let text: string;
  try {
    text = readFileSync(toolsFile, 'utf8');
  } catch {
    throw new Error(`PROXMOX_MCP_TOOLS: cannot read ${toolsFile}`);
  }
  return compileManifest(text, JSON.parse(readFileSync(SPEC_FILE, 'utf8')));
}
