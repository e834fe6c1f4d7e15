// Configuration: the seed's variables and defaults, and a config file written for the Python server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/cli/config.js';

const BASE = { PROXMOX_HOST: 'pve.example.com', PROXMOX_TOKEN_ID: 'root@pam!mcp', PROXMOX_TOKEN_SECRET: 'aaaaaaaa-bbbb' };

describe('loadConfig', () => {
  it('applies the defaults from the Python server', () => {
    const c = loadConfig(BASE);
    expect(c).toMatchObject({ host: 'pve.example.com', port: 8006, verifySsl: true, logLevel: 'INFO', caFile: undefined, requireReadonlyToken: false });
    expect(c.api.id).toBe('pve');
  });

  it('reads every variable', () => {
    const c = loadConfig({ ...BASE, PROXMOX_PORT: '443', PROXMOX_VERIFY_SSL: 'false', PROXMOX_SERVICE: 'pve', PROXMOX_LOG_LEVEL: 'debug', PROXMOX_TIMEOUT_MS: '2000', PROXMOX_RATE_LIMIT: '5' });
    expect(c).toMatchObject({ port: 443, verifySsl: false, logLevel: 'DEBUG', requestTimeoutMs: 2000, rateLimitPerMinute: 5 });
  });

  it('takes a config file written for the Python server, where variables are unset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmcp-cfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        proxmox: { host: '10.0.0.5', port: 8007, verify_ssl: false, service: 'PVE' },
        auth: { user: 'root@pam', token_name: 'claude-readonly', token_value: 'secret-value' },
        logging: { level: 'WARNING', format: '%(message)s', file: 'proxmox_mcp.log' },
      }),
    );
    const c = loadConfig({ PROXMOX_MCP_CONFIG: file });
    expect(c).toMatchObject({ host: '10.0.0.5', port: 8007, verifySsl: false, tokenId: 'root@pam!claude-readonly', tokenSecret: 'secret-value', logLevel: 'WARNING' });
    const overridden = loadConfig({ PROXMOX_MCP_CONFIG: file, PROXMOX_HOST: 'pve2', PROXMOX_VERIFY_SSL: 'true' });
    expect(overridden).toMatchObject({ host: 'pve2', verifySsl: true, tokenId: 'root@pam!claude-readonly' });
  });

  it('names the setting that is wrong', () => {
    expect(() => loadConfig({ ...BASE, PROXMOX_HOST: 'pve/../x' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, PROXMOX_HOST: 'pve/../x' })).toThrow(/PROXMOX_HOST/);
    expect(() => loadConfig({ ...BASE, PROXMOX_MAX_CONCURRENCY: '0' })).toThrow(/PROXMOX_MAX_CONCURRENCY must be a whole number from 1/);
  });
});

describe('PROXMOX_SERVICE=PBS', () => {
  const PBS = { PROXMOX_HOST: 'pbs.example.com', PROXMOX_TOKEN_ID: 'mcp@pbs!reader', PROXMOX_TOKEN_SECRET: 'aaaaaaaa-bbbb', PROXMOX_SERVICE: 'PBS' };

  it('selects the Proxmox Backup Server description, on port 8007 unless PROXMOX_PORT says otherwise', () => {
    const c = loadConfig(PBS);
    expect(c.api.id).toBe('pbs');
    expect(c.api.product).toBe('Proxmox Backup Server');
    expect(c.port).toBe(8007);
    expect(loadConfig({ ...PBS, PROXMOX_SERVICE: 'pbs', PROXMOX_PORT: '443' }).port).toBe(443);
    expect(loadConfig({ ...PBS, PROXMOX_SERVICE: undefined, PROXMOX_TOKEN_ID: 'root@pam!mcp' }).port).toBe(8006);
  });

  it('names both services when another is asked for', () => {
    expect(() => loadConfig({ ...PBS, PROXMOX_SERVICE: 'PMG' })).toThrow(/PVE \(Proxmox VE\), PBS \(Proxmox Backup Server\)/);
  });
});
