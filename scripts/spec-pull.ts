// `npm run spec:pull -- [--api pve|pbs] --from <file | https URL | host[:port]> [--release X] [--dry-run] [--root DIR]`
//
// Fetches a Proxmox apidoc.js, converts it, compares it with the current pin for every tool in the
// API's manifest (tools.yaml, tools-pbs.yaml), prints the upgrade report, and only when no tool breaks
// writes the new pin, the lock and the bindings. When a tool would break, nothing on disk changes and
// the exit code is 1. The API: `--api` wins, then PROXMOX_SERVICE, as the server reads it.
//
// The release: `--release` wins; otherwise the file name (`apidoc-X.Y.Z.js` for Proxmox VE,
// `apidoc-YYYY-MM.js` or a version for Proxmox Backup Server); otherwise "unknown". A Proxmox VE host
// does not tell it without a login, and its `/version` reports pve-manager, not the pve-docs package
// whose schema the viewer serves, so guessing from there would pin a wrong number.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, loadConnectionSettings, type ConnectionSettings } from '../src/cli/config.js';
import { DEFAULT_API, apiById, type ApiDescription } from '../src/proxmox/api/index.js';
import { createAgent, createFetch } from '../src/proxmox/http.js';
import { tlsSettings } from '../src/proxmox/upstream-options.js';
import { renderBindings } from './bindings.js';
import { CONVERTER_VERSION, convertApidoc, serializeSpec, type ApiId } from './convert-apidoc.js';
import { buildUpgradeReport, formatUpgradeReport } from './upgrade-report.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_BYTES = 64 * 1024 * 1024;

/** How each API's pin is made and named, beside what its description states (files, port, viewer path). */
export interface PinFacts {
  api: ApiId;
  bindingsFile: string;
  /** The lock's key for the release (kept as Proxmox VE's lock has always had it). */
  releaseKey: string;
  /** What the release counts, in the report. */
  releaseName: string;
  releaseFromName: RegExp;
  releaseHint: string;
}

export const PINS: Record<ApiId, PinFacts> = {
  pve: {
    api: 'pve',
    bindingsFile: 'src/generated/proxmox-api.ts',
    releaseKey: 'pveDocsRelease',
    releaseName: 'pve-docs',
    releaseFromName: /^apidoc-(\d+\.\d+(?:\.\d+)?(?:-\d+)?)\.js$/,
    releaseHint: 'Pass --release X.Y.Z (the pve-docs version shown by `pveversion -v`).',
  },
  pbs: {
    api: 'pbs',
    bindingsFile: 'src/generated/proxmox-backup-api.ts',
    releaseKey: 'release',
    releaseName: 'Proxmox Backup Server',
    // The viewer file carries no release number: a date (apidoc-2026-07.js) or a version names it.
    releaseFromName: /^apidoc-(\d{4}-\d{2}(?:-\d{2})?|\d+\.\d+(?:\.\d+)?(?:-\d+)?)\.js$/,
    releaseHint: 'Pass --release (the version `GET /version` reports, or the date the file was taken).',
  },
};

export const BINDINGS_FILE = PINS.pve.bindingsFile;

export interface PullOptions {
  from: string;
  release?: string | undefined;
  dryRun: boolean;
  root: string;
  /** Which API the file describes; PROXMOX_SERVICE's when absent. */
  api?: ApiId | undefined;
}

export type Lock = Record<string, string | number>;

function pinFacts(api: ApiDescription): PinFacts {
  const facts = (PINS as Record<string, PinFacts | undefined>)[api.id];
  if (facts === undefined) throw new Error(`spec:pull does not know how to pin ${api.product}`);
  return facts;
}

class UsageError extends Error {}

export function parseArgs(argv: string[]): PullOptions {
  let from: string | undefined;
  let release: string | undefined;
  let root = REPO_ROOT;
  let dryRun = false;
  let api: ApiId | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg ?? ''} needs a value`);
      return v;
    };
    if (arg === '--from') from = value();
    else if (arg === '--release') release = value();
    else if (arg === '--root') root = resolve(value());
    else if (arg === '--dry-run') dryRun = true;
    else if (arg === '--api') {
      const v = value().toLowerCase();
      if (v !== 'pve' && v !== 'pbs') throw new UsageError('--api must be pve or pbs');
      api = v;
    } else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (from === undefined) throw new UsageError('--from is required');
  if (release !== undefined && !/^[0-9A-Za-z][0-9A-Za-z.+~-]*$/.test(release)) throw new UsageError('--release must look like 9.1.3');
  return { from, release, dryRun, root, api };
}

export type Source = { kind: 'file'; path: string } | { kind: 'url'; url: URL };

/**
 * A file path that exists, an https URL, or a host (with optional port) of a Proxmox node. A host,
 * or a URL without a path, means the schema file that host's API viewer serves.
 */
export function resolveSource(from: string, api: ApiDescription = DEFAULT_API): Source {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from)) {
    const url = new URL(from);
    if (url.protocol !== 'https:') throw new UsageError('only https URLs are accepted');
    if (url.pathname === '/' && url.search === '') url.pathname = api.apidocPath;
    return { kind: 'url', url };
  }
  if (existsSync(from)) return { kind: 'file', path: resolve(from) };
  const host = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(from);
  if (host) {
    return { kind: 'url', url: new URL(`https://${host[1] ?? ''}:${host[2] ?? String(api.defaultPort)}${api.apidocPath}`) };
  }
  throw new UsageError(`--from ${JSON.stringify(from)} is neither an existing file, an https URL nor a host[:port]`);
}

// The host is trusted exactly as the server trusts it: the same settings, read by the same code.
async function fetchSource(source: Source, connection: ConnectionSettings): Promise<Buffer> {
  if (source.kind === 'file') return readFile(source.path);
  // A schema file is far larger than any API answer, and a busy host may be slow to send it.
  const agent = createAgent(tlsSettings(connection), { maxResponseBytes: MAX_BYTES, requestTimeoutMs: 60_000 });
  try {
    const response = await createFetch(agent)(source.url, { headers: { accept: '*/*', 'accept-encoding': 'identity' } });
    if (!response.ok) throw new Error(`GET ${source.url.href} answered ${response.status} ${response.statusText}`);
    return Buffer.from(await response.arrayBuffer());
  } finally {
    await agent.close();
  }
}

export function detectRelease(source: Source, explicit: string | undefined, pin: PinFacts = PINS.pve): string | undefined {
  if (explicit !== undefined) return explicit;
  const name = source.kind === 'file' ? basename(source.path) : basename(source.url.pathname);
  return pin.releaseFromName.exec(name)?.[1];
}

function originOf(source: Source): string {
  return source.kind === 'file' ? `file:${basename(source.path)}` : source.url.href;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

type CompileManifest = (yamlText: string, spec: unknown, api: ApiDescription) => unknown;

/** The manifest compiler (src/manifest/compile.ts); without it (a partial checkout) this step is skipped. */
async function loadManifestCompiler(): Promise<CompileManifest | undefined> {
  const modulePath = join(REPO_ROOT, 'src', 'manifest', 'compile.ts');
  if (!existsSync(modulePath)) return undefined;
  const mod = (await import(pathToFileURL(modulePath).href)) as { compileManifest?: unknown };
  return typeof mod.compileManifest === 'function' ? (mod.compileManifest as CompileManifest) : undefined;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${String(process.pid)}`;
  await writeFile(temp, text);
  await rename(temp, path);
}

export interface PullIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/** Runs one pull; returns the exit code. */
export async function specPull(options: PullOptions, io: PullIo): Promise<number> {
  const connection = loadConnectionSettings(io.env);
  const api = options.api === undefined ? connection.api : apiById(options.api);
  if (api === undefined) throw new UsageError(`--api ${options.api ?? ''} is not an API this server speaks`);
  const pin = pinFacts(api);
  const manifestFile = api.manifestFile;
  const source = resolveSource(options.from, api);
  if (source.kind === 'url' && !connection.verifySsl && connection.fingerprint === undefined) {
    io.err('warning: PROXMOX_VERIFY_SSL=false: the certificate is NOT verified; pin it with PROXMOX_TLS_FINGERPRINT.\n');
  }
  const release = detectRelease(source, options.release, pin);
  if (release === undefined) {
    io.err(`note: the release could not be read from the file name; pinning as "unknown". ${pin.releaseHint}\n`);
  }
  const bytes = await fetchSource(source, connection);
  const text = bytes.toString('utf8');
  const converted = convertApidoc(text, { release: release ?? 'unknown', api: pin.api });
  for (const warning of converted.warnings) io.err(`warning: ${warning}\n`);
  const specText = serializeSpec(converted.document);

  const specPath = join(options.root, api.specFile);
  const currentText = await readIfExists(specPath);
  const currentSpec: unknown = currentText === undefined ? {} : JSON.parse(currentText);
  const toolsFile = await readIfExists(join(options.root, manifestFile));
  const toolsText = toolsFile ?? 'tools: []\n';
  const report = buildUpgradeReport(currentSpec, converted.document, toolsText);
  io.out(formatUpgradeReport(report, pin.releaseName));

  if (report.broken.length > 0) {
    io.err(`spec:pull: a tool would break; nothing was written. Fix ${manifestFile} or stay on the current pin.\n`);
    return 1;
  }

  const compile = toolsFile === undefined ? undefined : await loadManifestCompiler();
  if (toolsFile === undefined) {
    io.out(`note: no ${manifestFile} here; no manifest to check against the new spec.\n`);
  } else if (compile === undefined) {
    io.out(`note: src/manifest/compile.ts (compileManifest) is not there yet; ${manifestFile} was not re-validated.\n`);
  } else {
    try {
      compile(toolsText, JSON.parse(specText), api);
    } catch (error) {
      io.err(`spec:pull: ${manifestFile} does not compile against the new spec; nothing was written.\n${(error as Error).message}\n`);
      return 1;
    }
    io.out(`${manifestFile} compiles against the new spec.\n`);
  }

  if (options.dryRun) {
    io.out('dry run: nothing was written.\n');
    return 0;
  }
  const lock: Lock = {
    [pin.releaseKey]: release ?? 'unknown',
    sourceSha256: createHash('sha256').update(bytes).digest('hex'),
    origin: originOf(source),
    getOperations: converted.getOperations,
    converter: CONVERTER_VERSION,
  };
  // Everything is computed before the first write, so a failure leaves the old pin whole.
  const bindings = await renderBindings(specText, api.specFile);
  await writeAtomically(specPath, specText);
  await writeAtomically(join(options.root, api.lockFile), `${JSON.stringify(lock, null, 2)}\n`);
  await writeAtomically(join(options.root, pin.bindingsFile), bindings);
  io.out(`pinned ${pin.releaseName} ${release ?? 'unknown'}: ${String(converted.getOperations)} GET operations (${api.specFile}, ${api.lockFile}, ${pin.bindingsFile}).\n`);
  io.out('next: `npm run generate` refreshes what else derives from the spec (compiled manifest, README table).\n');
  return 0;
}

async function main(): Promise<void> {
  const io: PullIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
  };
  try {
    process.exitCode = await specPull(parseArgs(process.argv.slice(2)), io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`spec:pull: ${message}\n`);
    if (error instanceof ConfigError) io.err('spec:pull reads PROXMOX_SERVICE, PROXMOX_VERIFY_SSL, PROXMOX_SSL_CERT and PROXMOX_TLS_FINGERPRINT as the server does.\n');
    if (error instanceof UsageError) {
      io.err('usage: npm run spec:pull -- [--api pve|pbs] --from <file | https URL | host[:port]> [--release X.Y.Z] [--dry-run] [--root DIR]\n');
    }
    process.exitCode = 2;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
