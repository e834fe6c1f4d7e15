// Configuration comes from PROXMOX_* variables, then from a JSON file written for the Python
// ProxmoxMCP server (PROXMOX_MCP_CONFIG) for anything the variables leave unset. Never from tool arguments.
import { readFileSync } from 'node:fs';
import type { LogLevel } from '../logger.js';
import { nameList, type ToolChoice } from '../manifest/toolsets.js';

export interface Config {
  host: string;
  port: number;
  tokenId: string;
  tokenSecret: string;
  verifySsl: boolean;
  caFile: string | undefined;
  fingerprint: string | undefined;
  service: 'PVE';
  logLevel: LogLevel;
  requireReadonlyToken: boolean;
  /** Per upstream request (connect, headers, body gaps). */
  requestTimeoutMs: number;
  /** Per tool call, end to end. */
  callTimeoutMs: number;
  maxResponseBytes: number;
  maxResultBytes: number;
  maxConcurrency: number;
  /** Tool calls allowed per minute. */
  rateLimitPerMinute: number;
  maxArgumentBytes: number;
  /** Another manifest instead of the built-in one. */
  toolsFile: string | undefined;
  /** A manifest whose tools are added to (or replace) the built-in ones. */
  extraToolsFile: string | undefined;
  /** Toolsets and single tools to list. */
  tools: ToolChoice;
  /** Tools the token cannot use: left out of tools/list, or listed with what is missing. */
  unusableTools: 'hide' | 'show';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

interface FileConfig {
  host?: string;
  port?: number;
  verifySsl?: boolean;
  service?: string;
  tokenId?: string;
  tokenSecret?: string;
  logLevel?: string;
}

function readConfigFile(path: string): FileConfig {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`PROXMOX_MCP_CONFIG: cannot read ${path} (${code})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`PROXMOX_MCP_CONFIG: ${path} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new ConfigError(`PROXMOX_MCP_CONFIG: ${path} must hold a JSON object`);
  }
  const doc = parsed as Record<string, Record<string, unknown> | undefined>;
  const proxmox = doc.proxmox ?? {};
  const auth = doc.auth ?? {};
  const logging = doc.logging ?? {};
  const out: FileConfig = {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const host = str(proxmox.host);
  if (host !== undefined) out.host = host;
  if (typeof proxmox.port === 'number' || typeof proxmox.port === 'string') out.port = Number(proxmox.port);
  if (typeof proxmox.verify_ssl === 'boolean') out.verifySsl = proxmox.verify_ssl;
  const service = str(proxmox.service);
  if (service !== undefined) out.service = service;
  // The Python server names the user and the token separately: user "root@pam", token_name "mcp".
  const user = str(auth.user);
  const tokenName = str(auth.token_name);
  if (tokenName !== undefined) out.tokenId = tokenName.includes('!') || user === undefined ? tokenName : `${user}!${tokenName}`;
  const tokenValue = str(auth.token_value);
  if (tokenValue !== undefined) out.tokenSecret = tokenValue;
  const level = str(logging.level);
  if (level !== undefined) out.logLevel = level;
  return out;
}

function parseBool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false (got "${value}")`);
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

const LEVELS: Record<string, LogLevel> = {
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  WARNING: 'WARNING',
  WARN: 'WARNING',
  ERROR: 'ERROR',
};

// A host name or an IP address, optionally in brackets for IPv6: never a URL or a path.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[?[0-9A-Fa-f:.]+\]?)$/;
const TOKEN_ID = /^[^\s!@]+@[A-Za-z][A-Za-z0-9._-]*![A-Za-z][A-Za-z0-9._-]*$/;

function toolChoice(get: (name: string) => string | undefined): ToolChoice {
  const sets = get('PROXMOX_MCP_TOOLSETS');
  return { toolsets: sets === undefined ? undefined : nameList(sets), allow: nameList(get('PROXMOX_MCP_TOOLS_ALLOW')), deny: nameList(get('PROXMOX_MCP_TOOLS_DENY')) };
}

function unusableTools(value: string | undefined): 'hide' | 'show' {
  const v = (value ?? 'hide').trim().toLowerCase();
  if (v === 'hide' || v === 'show') return v;
  throw new ConfigError(`PROXMOX_MCP_UNUSABLE_TOOLS must be hide or show (got "${value ?? ''}")`);
}

export function loadConfig(env: Env = process.env): Config {
  const file = env.PROXMOX_MCP_CONFIG !== undefined && env.PROXMOX_MCP_CONFIG !== '' ? readConfigFile(env.PROXMOX_MCP_CONFIG) : {};
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };

  const host = get('PROXMOX_HOST')?.trim() ?? file.host;
  if (host === undefined) throw new ConfigError('PROXMOX_HOST is required: the Proxmox host name or IP address');
  if (!HOST.test(host)) throw new ConfigError(`PROXMOX_HOST must be a host name or IP address, without scheme, port or path (got "${host}")`);

  const portText = get('PROXMOX_PORT');
  const port = portText !== undefined ? parseInteger('PROXMOX_PORT', portText, 1, 65535) : (file.port ?? 8006);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError('PROXMOX_PORT must be a whole number from 1 to 65535');

  const tokenId = get('PROXMOX_TOKEN_ID')?.trim() ?? file.tokenId;
  if (tokenId === undefined) throw new ConfigError('PROXMOX_TOKEN_ID is required: the full token ID, for example root@pam!mcp');
  if (!TOKEN_ID.test(tokenId)) throw new ConfigError(`PROXMOX_TOKEN_ID must look like USER@REALM!TOKENNAME, for example root@pam!mcp (got "${tokenId}")`);

  const tokenSecret = get('PROXMOX_TOKEN_SECRET')?.trim() ?? file.tokenSecret;
  if (tokenSecret === undefined) throw new ConfigError('PROXMOX_TOKEN_SECRET is required: the secret shown once when the token was created');
  // The secret is never echoed, not even when it is malformed.
  if (!/^[\x21-\x7e]{1,256}$/.test(tokenSecret)) throw new ConfigError('PROXMOX_TOKEN_SECRET holds characters a token secret cannot have (whitespace or control characters)');

  const verifyText = get('PROXMOX_VERIFY_SSL');
  const verifySsl = verifyText !== undefined ? parseBool('PROXMOX_VERIFY_SSL', verifyText) : (file.verifySsl ?? true);

  const service = (get('PROXMOX_SERVICE') ?? file.service ?? 'PVE').trim();
  if (service.toUpperCase() !== 'PVE') {
    throw new ConfigError(`PROXMOX_SERVICE "${service}" is not supported: this server speaks to Proxmox VE only (PVE)`);
  }

  const levelText = (get('PROXMOX_LOG_LEVEL') ?? file.logLevel ?? 'INFO').trim().toUpperCase();
  const logLevel = LEVELS[levelText];
  if (logLevel === undefined) throw new ConfigError(`PROXMOX_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got "${levelText}")`);

  const caFile = get('PROXMOX_SSL_CERT');
  if (caFile !== undefined) {
    try {
      readFileSync(caFile);
    } catch {
      throw new ConfigError(`PROXMOX_SSL_CERT: cannot read the CA file ${caFile}`);
    }
  }
  const fingerprint = get('PROXMOX_TLS_FINGERPRINT');
  if (fingerprint !== undefined) {
    const hex = fingerprint.trim().replace(/^sha-?256[:/ ]?/i, '').replace(/[:\s]/g, '');
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
      throw new ConfigError('PROXMOX_TLS_FINGERPRINT must be a SHA-256 fingerprint such as "AB:CD:...:EF" (32 bytes in hex)');
    }
  }

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = get(name);
    return v === undefined ? fallback : parseInteger(name, v, min, max);
  };
  const requireText = get('PROXMOX_REQUIRE_READONLY_TOKEN');

  return {
    host,
    port,
    tokenId,
    tokenSecret,
    verifySsl,
    caFile,
    fingerprint,
    service: 'PVE',
    logLevel,
    requireReadonlyToken: requireText !== undefined ? parseBool('PROXMOX_REQUIRE_READONLY_TOKEN', requireText) : false,
    requestTimeoutMs: int('PROXMOX_TIMEOUT_MS', 15_000, 100, 600_000),
    callTimeoutMs: int('PROXMOX_CALL_TIMEOUT_MS', 30_000, 100, 900_000),
    maxResponseBytes: int('PROXMOX_MAX_RESPONSE_BYTES', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxResultBytes: int('PROXMOX_MAX_RESULT_BYTES', 24_000, 1024, 10_000_000),
    maxConcurrency: int('PROXMOX_MAX_CONCURRENCY', 8, 1, 256),
    rateLimitPerMinute: int('PROXMOX_RATE_LIMIT', 600, 1, 1_000_000),
    maxArgumentBytes: int('PROXMOX_MAX_ARGUMENT_BYTES', 4096, 64, 1_048_576),
    toolsFile: get('PROXMOX_MCP_TOOLS'),
    extraToolsFile: get('PROXMOX_MCP_EXTRA_TOOLS'),
    tools: toolChoice(get),
    unusableTools: unusableTools(get('PROXMOX_MCP_UNUSABLE_TOOLS')),
  };
}
