// Entry point: `proxmox-mcp` serves MCP over stdio; `proxmox-mcp doctor` checks the setup.
// stdout carries only the protocol; every human-readable line goes to stderr.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from '../logger.js';
import { apiCatalogueFor, loadTools } from '../manifest/load.js';
import { SERVER_VERSION } from '../mcp/server.js';
import { createProxmoxServer, createProxmoxUpstream, type ProxmoxServer } from '../app.js';
import { judgeTools, listedTools } from '../tools/access.js';
import type { Handoff } from './launcher.js';
import { ServerTransport } from '../mcp/stdio-transport.js';
import { checkTokenPrivileges, describeExcess } from '../proxmox/token-check.js';

const USAGE = `proxmox-mcp ${SERVER_VERSION}: a read-only MCP server for Proxmox VE (stdio)

Usage:
  proxmox-mcp            serve MCP over stdio (configure with PROXMOX_* variables; see README)
  proxmox-mcp doctor     check reachability, TLS, the token and its privileges, and the Proxmox release
  proxmox-mcp --version
`;

/** How long start-up waits for the token's privileges before listing every tool. */
const STARTUP_CHECK_MS = 3000;

function fail(message: string, code: number): never {
  process.stderr.write(`proxmox-mcp: ${message}\n`);
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

async function serve(handoff?: Handoff): Promise<void> {
  const config = handoff?.config ?? readConfig();
  const logger = createLogger({ level: config.logLevel, secrets: [config.tokenSecret] });
  warnAboutTls(config, logger);
  let manifest;
  try {
    manifest = await loadTools(config, (message) => {
      logger.warn(message);
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), 2);
  }
  const api = apiCatalogueFor(manifest);
  const upstream = createProxmoxUpstream(config, manifest, undefined, api);
  const state: { server?: ProxmoxServer; closing: boolean } = { closing: false };
  const shutdown = (): void => {
    if (state.closing) return;
    state.closing = true;
    void (state.server ?? upstream).close().finally(() => process.exit(0));
  };
  // From the start: a signal during the privilege check stops its request too.
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  // The token's privileges, read once before anything is listed: they decide which tools are
  // listed, and a token that could change something is warned about (or refused). A host that
  // does not answer soon is not waited for: every tool is listed, as without the check.
  const check = await checkTokenPrivileges(upstream, Math.min(config.requestTimeoutMs, STARTUP_CHECK_MS));
  if (state.closing) return;
  if (check.error !== undefined) {
    const message = `could not read the token's privileges (${check.error})`;
    if (config.requireReadonlyToken) fail(`${message}; PROXMOX_REQUIRE_READONLY_TOKEN=true refuses to start without that check`, 3);
    logger.warn(`${message}; every chosen tool is listed`);
  } else if (!check.ok) {
    const message = describeExcess(config.tokenId, check.excess);
    if (config.requireReadonlyToken) fail(`refusing to start (PROXMOX_REQUIRE_READONLY_TOKEN=true): ${message}`, 3);
    logger.warn(message);
  } else {
    logger.debug('token privileges: read-only');
  }
  const judged = judgeTools(manifest.tools, check.privileges);
  const unusable = judged.filter((j) => j.missing !== undefined);
  if (unusable.length > 0) {
    logger.info(`${unusable.length} tool(s) ${config.unusableTools === 'hide' ? 'not listed' : 'listed but not usable'}: this token lacks what they need (${unusable.map((j) => j.tool.name).join(', ')}); "proxmox-mcp doctor" says what to grant`);
  }
  const server = createProxmoxServer(config, manifest, logger, undefined, { upstream, judged, ...(api === undefined ? {} : { api }) });
  state.server = server;

  const transport = new ServerTransport({ drainMs: config.callTimeoutMs + 1000, ...(handoff === undefined ? {} : { answered: handoff.answered, resume: true }) });
  // The transport closes at the end of input, once the answers in flight are sent.
  transport.onclose = shutdown;
  await server.mcp.connect(transport);
  logger.info(`serving ${listedTools(judged, config.unusableTools).length} read-only tools for ${config.host}:${config.port} over stdio`);
}

/**
 * Runs the CLI. `handoff` comes from the launcher when it has already answered the host's first
 * requests (src/cli/launcher.ts).
 */
export async function main(handoff?: Handoff): Promise<void> {
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
  await serve(handoff);
}

