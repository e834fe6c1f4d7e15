// Entry point: `proxmox-mcp` serves MCP over stdio; `proxmox-mcp doctor` checks the setup.
// stdout carries only the protocol; every human-readable line goes to stderr.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from '../logger.js';
import { redactText, stripUnsafe } from '../sanitize.js';
import { loadManifest } from '../manifest/load.js';
import { SERVER_VERSION } from '../mcp/server.js';
import { createProxmoxApp } from '../app.js';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { StdioLines } from '../mcp/stdio.js';
import { checkTokenPrivileges, describeExcess } from '../proxmox/token-check.js';

const USAGE = `proxmox-mcp ${SERVER_VERSION}: a read-only MCP server for Proxmox (stdio)

Usage:
  proxmox-mcp            serve MCP over stdio (configure with PROXMOX_* variables; see README)
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
    if (check.error !== undefined) {
      const message = `could not read the token's privileges (${check.error})`;
      if (config.requireReadonlyToken) fail(`${message}; PROXMOX_REQUIRE_READONLY_TOKEN=true refuses to start without that check`, 3);
      logger.warn(message);
    } else if (!check.ok) {
      const message = describeExcess(config.tokenId, check.excess, config.api);
      if (config.requireReadonlyToken) fail(`refusing to start (PROXMOX_REQUIRE_READONLY_TOKEN=true): ${message}`, 3);
      logger.warn(message);
    } else {
      logger.debug('token privileges: read-only');
    }
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

