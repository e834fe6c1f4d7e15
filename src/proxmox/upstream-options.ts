// The one place configuration becomes upstream options (base URL, auth, TLS, limits): the server,
// doctor and spec:pull build their connections here, so a setting means the same thing to each.
import type { Config, ConnectionSettings } from '../cli/config.js';
import type { ApiDescription } from './api/index.js';
import type { ClientOptions } from './client.js';
import type { AgentLimits, TlsSettings } from './http.js';

export function baseUrl(api: ApiDescription, host: string, port: number): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `https://${bracketed}:${port}${api.basePath}`;
}

export function tlsSettings(settings: ConnectionSettings): TlsSettings {
  return { verify: settings.verifySsl, caFile: settings.caFile, fingerprint: settings.fingerprint };
}

function agentLimits(config: Pick<Config, 'maxConcurrency' | 'requestTimeoutMs' | 'maxResponseBytes'>): AgentLimits {
  return {
    connections: config.maxConcurrency,
    requestTimeoutMs: config.requestTimeoutMs,
    connectTimeoutMs: Math.min(config.requestTimeoutMs, 10_000),
    maxResponseBytes: config.maxResponseBytes,
  };
}

/** Everything the client needs to talk to the configured host; `templates` are the paths it may read. */
export function upstreamOptions(config: Config, templates: Iterable<string>): ClientOptions {
  const { api } = config;
  return {
    api,
    baseUrl: baseUrl(api, config.host, config.port),
    tokenId: config.tokenId,
    tokenSecret: config.tokenSecret,
    tls: tlsSettings(config),
    limits: agentLimits(config),
    // The version and the token's own privileges are read by doctor and the token check.
    allowedTemplates: new Set([...templates, api.versionPath, api.permissionsPath]),
  };
}
