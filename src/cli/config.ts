// Configuration comes from PROXMOX_* variables, then from a JSON file written for the Python
// ProxmoxMCP server (PROXMOX_MCP_CONFIG) for anything the variables leave unset. Never from tool arguments.
import { readFileSync, statSync } from 'node:fs';
import type { LogLevel } from '../logger.js';
import { nameList, type ToolChoice } from '../manifest/toolsets.js';
import { API_DESCRIPTIONS, DEFAULT_API, apiForService, type ApiDescription } from '../proxmox/api/index.js';
import { FINGERPRINT_FORM, parseFingerprint } from '../proxmox/fingerprint.js';
import { tokenIdProblem, tokenSecretProblem } from '../secrets.js';
import { loadClusters, type ClusterSettings } from './clusters.js';

/** How to reach and trust a Proxmox host: what the server, doctor and spec:pull share. */
export interface ConnectionSettings {
  /** The Proxmox API spoken to (PROXMOX_SERVICE). */
  api: ApiDescription;
  verifySsl: boolean;
  caFile: string | undefined;
  /** 64 lowercase hex digits. */
  fingerprint: string | undefined;
}

export interface Config extends ConnectionSettings {
  host: string;
  port: number;
  tokenId: string;
  tokenSecret: string;
  /** Said once at start-up (a secret file others can read); never fatal. */
  warnings: string[];
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
  /** Every cluster served, the default first; the top-level connection settings are the default's. */
  clusters: ClusterSettings[];
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

function toolChoice(get: (name: string) => string | undefined): ToolChoice {
  const sets = get('PROXMOX_MCP_TOOLSETS');
  return { toolsets: sets === undefined ? undefined : nameList(sets), allow: nameList(get('PROXMOX_MCP_TOOLS_ALLOW')), deny: nameList(get('PROXMOX_MCP_TOOLS_DENY')) };
}

function unusableTools(value: string | undefined): 'hide' | 'show' {
  const v = (value ?? 'hide').trim().toLowerCase();
  if (v === 'hide' || v === 'show') return v;
  throw new ConfigError(`PROXMOX_MCP_UNUSABLE_TOOLS must be hide or show (got "${value ?? ''}")`);
}

function settingReader(env: Env): (name: string) => string | undefined {
  return (name) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
}

function fileSettings(env: Env): FileConfig {
  return env.PROXMOX_MCP_CONFIG !== undefined && env.PROXMOX_MCP_CONFIG !== '' ? readConfigFile(env.PROXMOX_MCP_CONFIG) : {};
}

/** The API, and how its host's certificate is trusted: read the same way by every command. */
export function loadConnectionSettings(env: Env = process.env, file: FileConfig = fileSettings(env)): ConnectionSettings {
  const get = settingReader(env);
  const serviceText = get('PROXMOX_SERVICE') ?? file.service;
  const api = serviceText === undefined ? DEFAULT_API : apiForService(serviceText);
  if (api === undefined) {
    const known = API_DESCRIPTIONS.map((a) => `${a.service} (${a.product})`).join(', ');
    throw new ConfigError(`PROXMOX_SERVICE "${serviceText ?? ''}" is not supported: this server speaks to ${known}`);
  }

  const verifyText = get('PROXMOX_VERIFY_SSL');
  const verifySsl = verifyText !== undefined ? parseBool('PROXMOX_VERIFY_SSL', verifyText) : (file.verifySsl ?? true);

  const caFile = get('PROXMOX_SSL_CERT');
  if (caFile !== undefined) {
    try {
      readFileSync(caFile);
    } catch {
      throw new ConfigError(`PROXMOX_SSL_CERT: cannot read the CA file ${caFile}`);
    }
  }
  const fingerprintText = get('PROXMOX_TLS_FINGERPRINT');
  const fingerprint = fingerprintText === undefined ? undefined : parseFingerprint(fingerprintText);
  if (fingerprintText !== undefined && fingerprint === undefined) throw new ConfigError(`PROXMOX_TLS_FINGERPRINT must be ${FINGERPRINT_FORM}`);
  return { api, verifySsl, caFile, fingerprint };
}

/** Settings that hold a secret, and so may also come from a file (NAME_FILE), as containers and systemd credentials provide them. */
type SecretSetting = 'PROXMOX_TOKEN_SECRET';

/** A secret from NAME or from the file NAME_FILE names (read once; a trailing line break dropped). */
function readSecretSetting(env: Env, name: SecretSetting, warnings: string[]): string | undefined {
  const get = settingReader(env);
  const direct = get(name);
  const path = get(`${name}_FILE`);
  if (path === undefined) return direct?.trim();
  if (direct !== undefined) throw new ConfigError(`${name} and ${name}_FILE are both set: keep one`);
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = statSync(path).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${name}_FILE: cannot read ${path} (${code})`);
  }
  if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
    warnings.push(`${name}_FILE: ${path} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); restrict it with chmod 600`);
  }
  const value = text.replace(/(\r?\n)+$/, '');
  if (value === '') throw new ConfigError(`${name}_FILE: ${path} is empty`);
  return value;
}

export function loadConfig(env: Env = process.env): Config {
  const get = settingReader(env);
  const clustersFile = get('PROXMOX_MCP_CLUSTERS');
  if (clustersFile === undefined) {
    const single = loadSingleCluster(env);
    return { ...single, clusters: [{ name: 'default', api: single.api, host: single.host, port: single.port, tokenId: single.tokenId, tokenSecret: single.tokenSecret, verifySsl: single.verifySsl, caFile: single.caFile, fingerprint: single.fingerprint }] };
  }
  const warnings: string[] = [];
  const clusters = loadClusters(clustersFile, env, warnings, (message) => new ConfigError(message));
  const first = clusters[0];
  if (first === undefined) throw new ConfigError('PROXMOX_MCP_CLUSTERS: no cluster');
  // The single-cluster variables do not apply: each cluster's entry says how to reach it.
  const rest = loadSingleCluster({ ...env, PROXMOX_HOST: first.host, PROXMOX_TOKEN_ID: first.tokenId, PROXMOX_TOKEN_SECRET: first.tokenSecret, PROXMOX_TOKEN_SECRET_FILE: undefined, PROXMOX_SERVICE: first.api.service, PROXMOX_MCP_CONFIG: undefined });
  const { api, host, port, tokenId, tokenSecret, verifySsl, caFile, fingerprint } = first;
  return { ...rest, api, host, port, tokenId, tokenSecret, verifySsl, caFile, fingerprint, warnings: [...rest.warnings, ...warnings], clusters };
}

function loadSingleCluster(env: Env): Omit<Config, 'clusters'> {
  const file = fileSettings(env);
  const get = settingReader(env);
  const warnings: string[] = [];
  const connection = loadConnectionSettings(env, file);
  const { api } = connection;

  const host = get('PROXMOX_HOST')?.trim() ?? file.host;
  if (host === undefined) throw new ConfigError('PROXMOX_HOST is required: the Proxmox host name or IP address');
  if (!HOST.test(host)) throw new ConfigError(`PROXMOX_HOST must be a host name or IP address, without scheme, port or path (got "${host}")`);

  const portText = get('PROXMOX_PORT');
  const port = portText !== undefined ? parseInteger('PROXMOX_PORT', portText, 1, 65535) : (file.port ?? api.defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError('PROXMOX_PORT must be a whole number from 1 to 65535');

  const envTokenId = get('PROXMOX_TOKEN_ID')?.trim();
  const tokenId = envTokenId ?? file.tokenId;
  if (tokenId === undefined) throw new ConfigError(`PROXMOX_TOKEN_ID is required: the full token ID, for example ${api.tokenId.example}`);
  const tokenProblem = tokenIdProblem(tokenId, api);
  if (tokenProblem !== undefined) throw new ConfigError(`${envTokenId === undefined ? 'auth.token_name in PROXMOX_MCP_CONFIG' : 'PROXMOX_TOKEN_ID'} ${tokenProblem}`);

  const tokenSecret = readSecretSetting(env, 'PROXMOX_TOKEN_SECRET', warnings) ?? file.tokenSecret;
  if (tokenSecret === undefined) throw new ConfigError('PROXMOX_TOKEN_SECRET is required (or PROXMOX_TOKEN_SECRET_FILE naming a file that holds it): the secret shown once when the token was created');
  // The secret is never echoed, not even when it is malformed.
  const secretProblem = tokenSecretProblem(tokenSecret);
  if (secretProblem !== undefined) throw new ConfigError(`PROXMOX_TOKEN_SECRET ${secretProblem}`);

  const levelText = (get('PROXMOX_LOG_LEVEL') ?? file.logLevel ?? 'INFO').trim().toUpperCase();
  const logLevel = LEVELS[levelText];
  if (logLevel === undefined) throw new ConfigError(`PROXMOX_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got "${levelText}")`);

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = get(name);
    return v === undefined ? fallback : parseInteger(name, v, min, max);
  };
  const requireText = get('PROXMOX_REQUIRE_READONLY_TOKEN');

  return {
    ...connection,
    host,
    port,
    tokenId,
    tokenSecret,
    warnings,
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
