// Entry point: `proxmox-mcp` serves MCP over stdio; `proxmox-mcp doctor` checks the setup.
// stdout carries only the protocol; every human-readable line goes to stderr.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from '../logger.js';
import { redactText, stripUnsafe } from '../sanitize.js';
import { loadManifest } from '../manifest/load.js';
import { SERVER_VERSION } from '../mcp/server.js';
import { createProxmoxApp, createUpstreamFor } from '../app.js';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { StdioLines } from '../mcp/stdio.js';
import { checkTokenPrivileges, judgeTokenCheck } from '../proxmox/token-check.js';

const USAGE = `proxmox-mcp ${SERVER_VERSION}: a read-only MCP server for Proxmox (stdio)

Usage:
  proxmox-mcp            serve MCP over stdio (configure with PROXMOX_* variables; see README)
  proxmox-mcp http       serve MCP over Streamable HTTP at /mcp (PROXMOX_MCP_HTTP_*; see README)
  proxmox-mcp doctor     check reachability, TLS, the token and its privileges, and the Proxmox release
  proxmox-mcp --version
`;

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
    manifest = await loadManifest(config.toolsFile, config.api);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), 2);
  }
  const app = createProxmoxApp(config, manifest, logger);

  let closing = false;
  const tokenCheck = async (): Promise<void> => {
    const check = await checkTokenPrivileges(app.upstream, config.requestTimeoutMs, config.api);
    // Input ended while the check was running: stopping cut its request, which says nothing of the token.
    if (closing) return;
    const verdict = judgeTokenCheck(check, config.tokenId, config.requireReadonlyToken, config.api);
    if (verdict.refuse !== undefined) fail(verdict.refuse, 3);
    if (verdict.warn !== undefined) logger.warn(verdict.warn);
    else logger.debug('token privileges: read-only');
  };
  // With the strict setting nothing is served before the check passes; otherwise it must not delay start-up.
  if (config.requireReadonlyToken) await tokenCheck();

  // The wire closes at the end of input, once the answers in flight are sent (or the call timeout passed).
  const wire = new StdioLines({ drainMs: config.callTimeoutMs + 1000, warn: (text) => { logger.warn(text); } });
  const connection = serveStdio(app.createServer, { transport: wire, onerror: (error) => { logger.debug(error.message); } });
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    void connection
      .close()
      .then(() => app.close())
      .finally(() => process.exit(0));
  };
  void wire.closed.then(shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  logger.info(`serving ${manifest.tools.length} read-only tools for ${config.host}:${config.port} over stdio`);
  // After the host's first requests (initialize, tools/list) have been answered. The check also
  // opens the connection the first call will reuse.
  if (!config.requireReadonlyToken) setTimeout(() => void tokenCheck(), 300);
}

async function serveHttp(): Promise<void> {
  const config = readConfig();
  const { loadHttpConfig, runHttp } = await import('../mcp/http.js');
  let http;
  try {
    http = loadHttpConfig(config);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
  // MCP bearer tokens are secrets like the Proxmox token: never written, whole or in part.
  const logger = createLogger({ level: config.logLevel, secrets: [config.tokenSecret, ...http.tokens] });
  for (const warning of config.warnings) logger.warn(warning);
  warnAboutTls(config, logger);
  let manifest;
  try {
    manifest = await loadManifest(config.toolsFile, config.api);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), 2);
  }
  const upstream = createUpstreamFor(config, manifest);
  const tokenCheck = async (): Promise<void> => {
    const check = await checkTokenPrivileges(upstream, config.requestTimeoutMs, config.api);
    const verdict = judgeTokenCheck(check, config.tokenId, config.requireReadonlyToken, config.api);
    if (verdict.refuse !== undefined) fail(verdict.refuse, 3);
    if (verdict.warn !== undefined) logger.warn(verdict.warn);
  };
  // With the strict setting nothing is served before the check passes.
  if (config.requireReadonlyToken) await tokenCheck();
  try {
    await runHttp(config, http, manifest, logger, upstream);
  } catch (error) {
    fail(`cannot listen on ${http.host}:${http.port}: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
  if (!config.requireReadonlyToken) void tokenCheck();
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
  if (arg === 'http') {
    await serveHttp();
    return;
  }
  if (arg !== undefined) fail(`unknown argument "${arg}"\n${USAGE}`, 2);
  await serve();
}

