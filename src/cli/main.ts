// Entry point: `proxmox-mcp` serves MCP over stdio; `proxmox-mcp doctor` checks the setup.
// stdout carries only the protocol; every human-readable line goes to stderr.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, terminalLine, type Logger } from '../logger.js';
import { SERVER_VERSION } from '../mcp/server.js';
import { prepareApp, StartupError, type PreparedApp, type PrepareOptions } from '../app.js';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { StdioLines } from '../mcp/stdio.js';

const USAGE = `proxmox-mcp ${SERVER_VERSION}: a read-only MCP server for Proxmox (stdio)

Usage:
  proxmox-mcp            serve MCP over stdio (configure with PROXMOX_* variables; see README)
  proxmox-mcp http       serve MCP over Streamable HTTP at /mcp (PROXMOX_MCP_HTTP_*; see README)
  proxmox-mcp doctor     check reachability, TLS, the token and its privileges, and the Proxmox release
  proxmox-mcp --version
`;

function fail(message: string, code: number): never {
  // May carry the host's words (privilege names): no escapes or secrets reach the terminal.
  process.stderr.write(`proxmox-mcp: ${message.split('\n').map(terminalLine).join('\n')}\n`);
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

/** Start-up common to both transports (src/app.ts prepareApp); its refusals end the process with their code. */
async function prepare(config: Config, logger: Logger, options: PrepareOptions): Promise<PreparedApp | undefined> {
  try {
    return await prepareApp(config, logger, options);
  } catch (error) {
    if (error instanceof StartupError) fail(error.message, error.exitCode);
    throw error;
  }
}

async function serve(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.logLevel, secrets: [config.tokenSecret] });
  for (const warning of config.warnings) logger.warn(warning);
  warnAboutTls(config, logger);
  const stopping = new AbortController();
  const state: { stop?: () => Promise<void>; closing: boolean } = { closing: false };
  const shutdown = (): void => {
    if (state.closing) return;
    state.closing = true;
    stopping.abort();
    void (state.stop?.() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  // From the start: a signal during the privilege check stops its request too.
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const prepared = await prepare(config, logger, { signal: stopping.signal });
  if (prepared === undefined || state.closing) return;
  const { app } = prepared;

  // The wire closes at the end of input, once the answers in flight are sent (or the call timeout passed).
  const wire = new StdioLines({ drainMs: config.callTimeoutMs + 1000, warn: (text) => { logger.warn(text); } });
  const connection = serveStdio(app.createServer, { transport: wire, onerror: (error) => { logger.debug(error.message); } });
  state.stop = () => connection.close().then(() => app.close());
  void wire.closed.then(shutdown);
  logger.info(`serving ${prepared.listed} read-only tools for ${prepared.where} over stdio`);
}

async function serveHttp(): Promise<void> {
  const config = readConfig();
  const { createAnswerTracker, loadHttpConfig, runHttp } = await import('../mcp/http.js');
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
  // Readiness: any answer Proxmox gives a call counts, so a busy server never probes.
  const answers = createAnswerTracker();
  // Until it listens: a signal cuts the start-up privilege check and ends the process cleanly.
  const starting = new AbortController();
  const stopStarting = (): void => {
    starting.abort();
    process.exit(0);
  };
  process.once('SIGINT', stopStarting);
  process.once('SIGTERM', stopStarting);
  const prepared = await prepare(config, logger, { wrap: answers.track, signal: starting.signal });
  process.off('SIGINT', stopStarting);
  process.off('SIGTERM', stopStarting);
  if (prepared === undefined) return;
  try {
    await runHttp({ config, http, logger, app: prepared.app, lastAnswer: answers.lastAnswer }, prepared);
  } catch (error) {
    await prepared.app.close();
    fail(`cannot listen on ${http.host}:${http.port}: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
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

