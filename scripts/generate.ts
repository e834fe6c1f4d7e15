// Regenerates everything derived from spec/ and the manifests (tools.yaml for Proxmox VE,
// tools-pbs.yaml for Proxmox Backup Server): the TypeScript bindings, the compiled manifests the
// server loads at start-up, and the README tool tables. CI runs it and fails on a diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { writeBindings } from './bindings.js';
import { countTokens } from 'gpt-tokenizer';
import { compileManifest, ManifestError, type CompiledManifest, type CompiledTool } from '../src/manifest/compile.js';
import { DEFAULT_TOOLSETS, TOOLSETS } from '../src/manifest/toolsets.js';
import { apiById, type ApiDescription } from '../src/proxmox/api/index.js';
import { apiTools } from '../src/tools/api-reader.js';
import { PINS } from './spec-pull.js';

const TABLE_START = '<!-- tools:start (generated from tools.yaml by npm run generate) -->';
const TABLE_END = '<!-- tools:end -->';

/** A tool as tools/list carries it to the model (same fields, same order as the server sends). */
function listedEntry(t: CompiledTool): string {
  return JSON.stringify({ name: t.name, title: t.title, description: t.description, inputSchema: t.inputSchema, outputSchema: t.outputSchema, annotations: t.annotations });
}

/** Per toolset: its tools and what their share of tools/list costs on every turn (o200k tokens). */
function toolsetTable(tools: CompiledTool[]): string[] {
  const rows = TOOLSETS.flatMap((set) => {
    const members = tools.filter((t) => t.toolset === set);
    if (members.length === 0) return [];
    const tokens = members.reduce((n, t) => n + countTokens(listedEntry(t)), 0);
    const listed = DEFAULT_TOOLSETS.includes(set) ? 'yes' : 'only when asked for';
    return [`| \`${set}\` | ${members.length} | ${tokens} | ${listed} | ${members.map((t) => `\`${t.name}\``).join(', ')} |`];
  });
  return ['| Toolset | Tools | tools/list tokens | Listed by default | Members |', '|---|---|---|---|---|', ...rows];
}

/** Per API: where its compiled manifest goes and where its README table sits. */
const OUTPUTS = {
  pve: { manifest: 'src/generated/manifest.json', start: TABLE_START, end: TABLE_END },
  pbs: {
    manifest: 'src/generated/manifest-pbs.json',
    start: '<!-- pbs-tools:start (generated from tools-pbs.yaml by npm run generate) -->',
    end: '<!-- pbs-tools:end -->',
  },
} as const;

export function toolTable(manifest: CompiledManifest, start = TABLE_START, end = TABLE_END): string {
  const rows = manifest.tools.map((t) => {
    const args = Object.keys(t.inputSchema.properties as object);
    const argText = args.length ? args.map((a) => `\`${a}\``).join(', ') : '–';
    const endpoint = t.generic === undefined ? `\`GET ${t.path}\`` : t.generic === 'get' ? 'any GET of the pin not on the deny-list' : 'the pin, searched';
    return `| \`${t.name}\` | \`${t.toolset}\` | ${t.title} | ${endpoint} | ${t.privilege} | ${argText} |`;
  });
  const closed = manifest.tools.filter((t) => !t.annotations.openWorldHint).length;
  const world = closed === 0 ? '`openWorldHint: true`' : `\`openWorldHint\` (false for ${closed})`;
  return [
    start,
    '',
    `${manifest.tools.length} tools, all annotated \`readOnlyHint: true\`, \`destructiveHint: false\`, \`idempotentHint: true\` and ${world}.`,
    '',
    'Pick toolsets with `PROXMOX_MCP_TOOLSETS` (comma-separated, or `all`; default: all but `api`) and single tools with `PROXMOX_MCP_TOOLS_ALLOW` / `PROXMOX_MCP_TOOLS_DENY`. Tokens are counted with gpt-tokenizer (o200k) on each tool as tools/list sends it.',
    '',
    ...toolsetTable(manifest.tools),
    '',
    '| Tool | Toolset | What it answers | Endpoint | Privilege | Arguments |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    end,
  ].join('\n');
}

function describedApi(id: keyof typeof PINS): ApiDescription {
  const api = apiById(id);
  if (api === undefined) throw new Error(`no API description "${id}"`);
  return api;
}

export function compileProjectManifest(id: keyof typeof PINS = 'pve'): CompiledManifest {
  const api = describedApi(id);
  return compileManifest(readFileSync(api.manifestFile, 'utf8'), JSON.parse(readFileSync(api.specFile, 'utf8')), api);
}

async function main(): Promise<void> {
  const counts: string[] = [];
  for (const api of ['pve', 'pbs'] as const) {
    const out = OUTPUTS[api];
    await writeBindings(describedApi(api).specFile, PINS[api].bindingsFile);
    let manifest: CompiledManifest;
    try {
      manifest = compileProjectManifest(api);
    } catch (error) {
      if (error instanceof ManifestError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(1);
      }
      throw error;
    }
    writeFileSync(out.manifest, `${JSON.stringify(manifest, null, 1)}\n`);
    const readme = readFileSync('README.md', 'utf8');
    const start = readme.indexOf(out.start);
    const end = readme.indexOf(out.end);
    if (start >= 0 && end > start) {
      writeFileSync('README.md', readme.slice(0, start) + toolTable({ tools: [...manifest.tools, ...apiTools()] }, out.start, out.end) + readme.slice(end + out.end.length));
    }
    counts.push(`${api}: ${manifest.tools.length} tools`);
  }
  process.stderr.write(`generated: bindings, manifests (${counts.join(', ')}), README tool tables\n`);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await main();
