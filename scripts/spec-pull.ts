// `npm run spec:pull -- [--api pve|pbs] --from <file | https URL | host[:port]> [--release X] [--dry-run] [--root DIR]`
//
// Fetches a Proxmox apidoc.js, converts it, compares it with the current pin for every tool in the
// API's manifest (tools.yaml, tools-pbs.yaml), prints the upgrade report, and only when no tool breaks
// writes the new pin, the lock and the bindings. When a tool would break, nothing on disk changes and
// the exit code is 1.
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
import { createAgent, createFetch, type TlsSettings } from '../src/proxmox/http.js';
import type { ApiDescription } from '../src/proxmox/api/index.js';
import { pbs } from '../src/proxmox/api/pbs.js';
import { pve } from '../src/proxmox/api/pve.js';
import { renderBindings } from './bindings.js';
import { CONVERTER_VERSION, convertApidoc, serializeSpec, type ApiId } from './convert-apidoc.js';
import { buildUpgradeReport, formatUpgradeReport } from './upgrade-report.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_BYTES = 64 * 1024 * 1024;

/** Where each API's pin, lock, bindings and manifest live, and how a host serves its schema file. */
export interface PinFiles {
  api: ApiId;
  specFile: string;
  lockFile: string;
  bindingsFile: string;
  toolsFile: string;
  /** The lock's key for the release (kept as Proxmox VE's lock has always had it). */
  releaseKey: string;
  /** What the release counts, in the report. */
  releaseName: string;
  defaultPort: number;
  apidocPath: string;
  releaseFromName: RegExp;
  releaseHint: string;
}

/** The files and host facts an API description states; the rest is about pinning. */
function described(api: ApiDescription): Pick<PinFiles, 'specFile' | 'lockFile' | 'toolsFile' | 'defaultPort' | 'apidocPath'> {
  return { specFile: api.specFile, lockFile: api.lockFile, toolsFile: api.manifestFile, defaultPort: api.defaultPort, apidocPath: api.apidocPath };
}

export const PINS: Record<ApiId, PinFiles> = {
  pve: {
    api: 'pve',
    ...described(pve),
    bindingsFile: 'src/generated/proxmox-api.ts',
    releaseKey: 'pveDocsRelease',
    releaseName: 'pve-docs',
    releaseFromName: /^apidoc-(\d+\.\d+(?:\.\d+)?(?:-\d+)?)\.js$/,
    releaseHint: 'Pass --release X.Y.Z (the pve-docs version shown by `pveversion -v`).',
  },
  pbs: {
    api: 'pbs',
    ...described(pbs),
    bindingsFile: 'src/generated/proxmox-backup-api.ts',
    releaseKey: 'release',
    releaseName: 'Proxmox Backup Server',
    // The viewer file carries no release number: a date (apidoc-2026-07.js) or a version names it.
    releaseFromName: /^apidoc-(\d{4}-\d{2}(?:-\d{2})?|\d+\.\d+(?:\.\d+)?(?:-\d+)?)\.js$/,
    releaseHint: 'Pass --release (the version `GET /version` reports, or the date the file was taken).',
  },
};

export const SPEC_FILE = PINS.pve.specFile;
export const LOCK_FILE = PINS.pve.lockFile;
export const BINDINGS_FILE = PINS.pve.bindingsFile;

export interface PullOptions {
  from: string;
  release?: string | undefined;
  dryRun: boolean;
  root: string;
  /** Which API the file describes (default: pve). */
  api?: ApiId;
}

export type Lock = Record<string, string | number>;

class UsageError extends Error {}

export function parseArgs(argv: string[]): PullOptions {
  let from: string | undefined;
  let release: string | undefined;
  let root = REPO_ROOT;
  let dryRun = false;
  let api: ApiId = 'pve';
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
    }
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (from === undefined) throw new UsageError('--from is required');
  if (release !== undefined && !/^[0-9A-Za-z][0-9A-Za-z.+~-]*$/.test(release)) throw new UsageError('--release must look like 9.1.3');
  return { from, release, dryRun, root, api };
}

export type Source = { kind: 'file'; path: string } | { kind: 'url'; url: URL };

/** A file path that exists, an https URL, or a host (with optional port) of a Proxmox node. */
export function resolveSource(from: string, pin: PinFiles = PINS.pve): Source {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from)) {
    const url = new URL(from);
    if (url.protocol !== 'https:') throw new UsageError('only https URLs are accepted');
    return { kind: 'url', url };
  }
  if (existsSync(from)) return { kind: 'file', path: resolve(from) };
  const host = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(from);
  if (host) {
    return { kind: 'url', url: new URL(`https://${host[1] ?? ''}:${host[2] ?? String(pin.defaultPort)}${pin.apidocPath}`) };
  }
  throw new UsageError(`--from ${JSON.stringify(from)} is neither an existing file, an https URL nor a host[:port]`);
}

export function tlsSettingsFromEnv(env: NodeJS.ProcessEnv): TlsSettings {
  const verifyRaw = env.PROXMOX_VERIFY_SSL?.trim().toLowerCase();
  return {
    verify: !(verifyRaw === 'false' || verifyRaw === '0' || verifyRaw === 'no'),
    caFile: env.PROXMOX_SSL_CERT === '' ? undefined : env.PROXMOX_SSL_CERT,
    fingerprint: env.PROXMOX_TLS_FINGERPRINT === '' ? undefined : env.PROXMOX_TLS_FINGERPRINT,
  };
}

async function fetchSource(source: Source, env: NodeJS.ProcessEnv): Promise<Buffer> {
  if (source.kind === 'file') return readFile(source.path);
  const agent = createAgent(tlsSettingsFromEnv(env), { maxResponseBytes: MAX_BYTES, requestTimeoutMs: 60_000 });
  try {
    const response = await createFetch(agent, { bytes: true })(source.url, { headers: { accept: '*/*' } });
    if (!response.ok) throw new Error(`GET ${source.url.href} answered ${response.status} ${response.statusText}`);
    return Buffer.from(await response.arrayBuffer());
  } finally {
    await agent.close();
  }
}

export function detectRelease(source: Source, explicit: string | undefined, pin: PinFiles = PINS.pve): string | undefined {
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

type CompileManifest = (yamlText: string, spec: unknown, api: ApiId) => unknown;

/** The manifest compiler (src/manifest/compile.ts), checked against the API's own deny-list. */
async function loadManifestCompiler(): Promise<CompileManifest | undefined> {
  const modulePath = join(REPO_ROOT, 'src', 'manifest', 'compile.ts');
  if (!existsSync(modulePath)) return undefined;
  const mod = (await import(pathToFileURL(modulePath).href)) as { compileManifestFor?: unknown };
  return typeof mod.compileManifestFor === 'function' ? (mod.compileManifestFor as CompileManifest) : undefined;
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
  const pin = PINS[options.api ?? 'pve'];
  const source = resolveSource(options.from, pin);
  const release = detectRelease(source, options.release, pin);
  if (release === undefined) {
    io.err(`note: the release could not be read from the file name; pinning as "unknown". ${pin.releaseHint}\n`);
  }
  const bytes = await fetchSource(source, io.env);
  const text = bytes.toString('utf8');
  const converted = convertApidoc(text, { release: release ?? 'unknown', api: pin.api });
  for (const warning of converted.warnings) io.err(`warning: ${warning}\n`);
  const specText = serializeSpec(converted.document);

  const specPath = join(options.root, pin.specFile);
  const currentText = await readIfExists(specPath);
  const currentSpec: unknown = currentText === undefined ? {} : JSON.parse(currentText);
  const toolsFile = pin.toolsFile;
  const toolsText = (await readIfExists(join(options.root, toolsFile))) ?? 'tools: []\n';
  const report = buildUpgradeReport(currentSpec, converted.document, toolsText);
  io.out(formatUpgradeReport(report, pin.releaseName));

  if (report.broken.length > 0) {
    io.err(`spec:pull: a tool would break; nothing was written. Fix ${toolsFile} or stay on the current pin.\n`);
    return 1;
  }

  const compile = await loadManifestCompiler();
  if (compile === undefined) {
    io.out(`note: src/manifest/compile.ts is not there; ${toolsFile} was not re-validated.\n`);
  } else {
    try {
      compile(toolsText, JSON.parse(specText), pin.api);
    } catch (error) {
      io.err(`spec:pull: ${toolsFile} does not compile against the new spec; nothing was written.\n${(error as Error).message}\n`);
      return 1;
    }
    io.out(`${toolsFile} compiles against the new spec.\n`);
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
  const bindings = await renderBindings(specText, pin.specFile);
  await writeAtomically(specPath, specText);
  await writeAtomically(join(options.root, pin.lockFile), `${JSON.stringify(lock, null, 2)}\n`);
  await writeAtomically(join(options.root, pin.bindingsFile), bindings);
  io.out(`pinned ${pin.releaseName} ${release ?? 'unknown'}: ${String(converted.getOperations)} GET operations (${pin.specFile}, ${pin.lockFile}, ${pin.bindingsFile}).\n`);
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
    if (error instanceof UsageError) {
      io.err('usage: npm run spec:pull -- [--api pve|pbs] --from <file | https URL | host[:port]> [--release X.Y.Z] [--dry-run] [--root DIR]\n');
    }
    process.exitCode = 2;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
