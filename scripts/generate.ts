// Regenerates everything derived from spec/ and tools.yaml: the TypeScript bindings, the compiled
// manifest the server loads at start-up, and the README tool table. CI runs it and fails on a diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { writeBindings } from './bindings.js';
import { countTokens } from 'gpt-tokenizer';
import { compileManifest, ManifestError, type CompiledManifest, type CompiledTool } from '../src/manifest/compile.js';
import { DEFAULT_TOOLSETS, TOOLSETS } from '../src/manifest/toolsets.js';
import { apiTools } from '../src/tools/api-reader.js';

const SPEC = 'spec/proxmox-ve.openapi.json';
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

export function toolTable(manifest: CompiledManifest): string {
  const rows = manifest.tools.map((t) => {
    const args = Object.keys(t.inputSchema.properties as object);
    const argText = args.length ? args.map((a) => `\`${a}\``).join(', ') : '–';
    const endpoint = t.generic === undefined ? `\`GET ${t.path}\`` : t.generic === 'get' ? 'any GET of the pin not on the deny-list' : 'the pin, searched';
    return `| \`${t.name}\` | \`${t.toolset}\` | ${t.title} | ${endpoint} | ${t.privilege} | ${argText} |`;
  });
  const closed = manifest.tools.filter((t) => !t.annotations.openWorldHint).length;
  const world = closed === 0 ? '`openWorldHint: true`' : `\`openWorldHint\` (false for ${closed})`;
  return [
    TABLE_START,
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
    TABLE_END,
  ].join('\n');
}

export function compileProjectManifest(): CompiledManifest {
  return compileManifest(readFileSync('tools.yaml', 'utf8'), JSON.parse(readFileSync(SPEC, 'utf8')));
}

async function main(): Promise<void> {
  await writeBindings(SPEC, 'src/generated/proxmox-api.ts');
  let manifest: CompiledManifest;
  try {
    manifest = compileProjectManifest();
  } catch (error) {
    if (error instanceof ManifestError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  writeFileSync('src/generated/manifest.json', `${JSON.stringify(manifest, null, 1)}\n`);
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start >= 0 && end > start) {
    writeFileSync('README.md', readme.slice(0, start) + toolTable({ tools: [...manifest.tools, ...apiTools()] }) + readme.slice(end + TABLE_END.length));
  }
  process.stderr.write(`generated: bindings, manifest (${manifest.tools.length} tools), README tool table\n`);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await main();
