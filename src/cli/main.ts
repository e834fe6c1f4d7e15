// Entry point: `proxmox-mcp` serves MCP over stdio; `proxmox-mcp doctor` checks the setup.
// stdout carries only the protocol; every human-readable line goes to stderr.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from '../logger.js';
import { redactText, stripUnsafe } from '../sanitize.js';
import { apiCatalogueFor, loadTools } from '../manifest/load.js';
import { SERVER_VERSION } from '../mcp/server.js';
import { createProxmoxApp, createProxmoxUpstream } from '../app.js';
import { combineJudgements, judgeTools, listedTools, partialNotes } from '../tools/access.js';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { StdioLines } from '../mcp/stdio.js';
import { checkTokenPrivileges, describeExcess } from '../proxmox/token-check.js';

const USAGE = `proxmox-mcp ${SERVER_VERSION}: a read-only MCP server for Proxmox (stdio)

Usage:
  proxmox-mcp            serve MCP over stdio (configure with PROXMOX_* variables; see README)
  proxmox-mcp doctor     check reachability, TLS, the token and its privileges, and the Proxmox release
  proxmox-mcp --version
`;

/** How long start-up waits for the token's privileges before listing every tool. */
const STARTUP_CHECK_MS = 3000;

function fail(message: string, code: number): never {
  // May carry the host's words (privilege names): no escapes or secrets reach the terminal.
  process.stderr.write(`proxmox-mcp: ${redactText(stripUnsafe(message))}\n`);
  process.exit(code);
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
}

function warnAboutTls(config: Config, logger: Logger): void {
  if (!config.verifySsl && config.fingerprint === undefined) {
    logger.warn(
      'PROXMOX_VERIFY_SSL=false: the Proxmox certificate is NOT verified, so anyone on the network path can read the token. Prefer PROXMOX_TLS_FINGERPRINT (pin the certificate shown in the Proxmox UI) or PROXMOX_SSL_CERT (a CA file).',
    );
  }
}

async function serve(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.logLevel, secrets: [config.tokenSecret] });
  for (const warning of config.warnings) logger.warn(warning);
  warnAboutTls(config, logger);
  let manifest;
  try {
    manifest = await loadTools(config, (message) => {
      logger.warn(message);
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), 2);
  }
  const api = apiCatalogueFor(manifest, config.api);
  // One client per cluster; the first is the default (and the only one without PROXMOX_MCP_CLUSTERS).
  const clusters = config.clusters.map((c) => {
    const settings = { ...config, ...c };
    return { name: c.name, settings, upstream: createProxmoxUpstream(settings, manifest, undefined, api) };
  });
  const many = clusters.length > 1;
  const closeAll = async (): Promise<void> => {
    await Promise.all(clusters.map((c) => c.upstream.close()));
  };
  const state: { stop?: () => Promise<void>; closing: boolean } = { closing: false };
  const shutdown = (): void => {
    if (state.closing) return;
    state.closing = true;
    void (state.stop ?? closeAll)().finally(() => process.exit(0));
  };
  // From the start: a signal during the privilege check stops its request too.
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  // The token's privileges, read once per cluster before anything is listed: they decide which
  // tools are listed, and a token that could change something is warned about (or refused). A host
  // that does not answer soon is not waited for: its tools are listed, as without the check, and
  // one cluster down stops neither the server nor the others.
  const checks = await Promise.all(clusters.map((c) => checkTokenPrivileges(c.upstream, Math.min(config.requestTimeoutMs, STARTUP_CHECK_MS), c.settings.api)));
  if (state.closing) return;
  checks.forEach((check, i) => {
    const c = clusters[i];
    if (c === undefined) return;
    const which = many ? `cluster ${c.name}: ` : '';
    if (check.error !== undefined) {
      const message = `${which}could not read the token's privileges (${check.error})`;
      if (config.requireReadonlyToken) fail(`${message}; PROXMOX_REQUIRE_READONLY_TOKEN=true refuses to start without that check`, 3);
      logger.warn(`${message}; every chosen tool is listed`);
    } else if (!check.ok) {
      const message = `${which}${describeExcess(c.settings.tokenId, check.excess, c.settings.api)}`;
      if (config.requireReadonlyToken) fail(`refusing to start (PROXMOX_REQUIRE_READONLY_TOKEN=true): ${message}`, 3);
      logger.warn(message);
    } else {
      logger.debug(`${which}token privileges: read-only`);
    }
  });
  const perCluster = checks.map((check) => judgeTools(manifest.tools, check.privileges));
  const judged = combineJudgements(perCluster);
  const unusable = judged.filter((j) => j.missing !== undefined);
  if (unusable.length > 0) {
    logger.info(`${unusable.length} tool(s) ${config.unusableTools === 'hide' ? 'not listed' : 'listed but not usable'}: this token lacks what they need (${unusable.map((j) => j.tool.name).join(', ')}); "proxmox-mcp doctor" says what to grant`);
  }
  const targets = clusters.map((c, i) => ({ name: c.name, upstream: c.upstream, partialRows: partialNotes(perCluster[i] ?? []) }));
  const first = targets[0];
  if (first === undefined) fail('no cluster is configured', 2);
  const app = createProxmoxApp(config, manifest, logger, undefined, { upstream: first.upstream, judged, ...(api === undefined ? {} : { api }), ...(many ? { clusters: targets } : {}) });

  // The wire closes at the end of input, once the answers in flight are sent (or the call timeout passed).
  const wire = new StdioLines({ drainMs: config.callTimeoutMs + 1000, warn: (text) => { logger.warn(text); } });
  const connection = serveStdio(app.createServer, { transport: wire, onerror: (error) => { logger.debug(error.message); } });
  state.stop = () => connection.close().then(closeAll);
  void wire.closed.then(shutdown);
  const where = many ? `${clusters.length} clusters (${clusters.map((c) => c.name).join(', ')})` : `${config.host}:${config.port}`;
  logger.info(`serving ${listedTools(judged, config.unusableTools).length} read-only tools for ${where} over stdio`);
}

/** Runs the CLI. */
export async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === '--version' || arg === '-v') {
    process.stderr.write(`${SERVER_VERSION}\n`);
    return;
  }
  if (arg === '--help' || arg === '-h') {
    process.stderr.write(USAGE);
    return;
  }
  if (arg === 'doctor') {
    const { runDoctor } = await import('./doctor.js');
    process.exitCode = await runDoctor();
    return;
  }
  if (arg !== undefined) fail(`unknown argument "${arg}"\n${USAGE}`, 2);
  await serve();
}

