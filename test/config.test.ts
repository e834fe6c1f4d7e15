// Configuration: the seed's variables and defaults, and a config file written for the Python server.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
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

describe('a token ID that holds the secret', () => {
  const SECRET = '9b2f6c1e-7d4a-4e8b-b1c3-5a6d7e8f9012';
  const pasted = [`root@pam!mcp=${SECRET}`, `PVEAPIToken=root@pam!mcp=${SECRET}`, `PVEAPIToken root@pam!mcp=${SECRET}`, SECRET, `root@pam!${SECRET}x=`];

  it('is refused with a message that does not repeat it', () => {
    for (const tokenId of pasted) {
      let message = '';
      try {
        loadConfig({ ...BASE, PROXMOX_TOKEN_ID: tokenId });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^PROXMOX_TOKEN_ID /);
      expect(message).not.toContain(SECRET.slice(0, 8));
      expect(message).not.toContain(SECRET.slice(-8));
    }
    expect(() => loadConfig({ ...BASE, PROXMOX_TOKEN_ID: pasted[1] })).toThrow(/whole Authorization header/);
    expect(() => loadConfig({ ...BASE, PROXMOX_TOKEN_ID: pasted[0] })).toThrow(/holds the secret after the token ID/);
  });

  it('is refused from the config file too, naming where it came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmcp-cfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ proxmox: { host: 'pve' }, auth: { user: 'root@pam', token_name: `mcp=${SECRET}`, token_value: SECRET } }));
    expect(() => loadConfig({ PROXMOX_MCP_CONFIG: file })).toThrow(/^auth\.token_name in PROXMOX_MCP_CONFIG holds the secret/);
    try {
      loadConfig({ PROXMOX_MCP_CONFIG: file });
    } catch (error) {
      expect((error as Error).message).not.toContain(SECRET.slice(0, 8));
    }
  });
});

describe('secrets from files (NAME_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmcp-secret-'));
  const write = (name: string, text: string, mode: number): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
    return path;
  };
  const withoutSecret = { PROXMOX_HOST: BASE.PROXMOX_HOST, PROXMOX_TOKEN_ID: BASE.PROXMOX_TOKEN_ID };

  it('reads PROXMOX_TOKEN_SECRET_FILE once, trims the trailing line break, and stays quiet for a private file', () => {
    const path = write('private', 'from-a-file-1234\n', 0o600);
    const c = loadConfig({ ...withoutSecret, PROXMOX_TOKEN_SECRET_FILE: path });
    expect(c.tokenSecret).toBe('from-a-file-1234');
    expect(c.warnings).toEqual([]);
    expect(loadConfig({ ...withoutSecret, PROXMOX_TOKEN_SECRET_FILE: write('crlf', 'from-a-file-1234\r\n', 0o600) }).tokenSecret).toBe('from-a-file-1234');
  });

  it('warns when others can read the file, without the secret', () => {
    const c = loadConfig({ ...withoutSecret, PROXMOX_TOKEN_SECRET_FILE: write('shared', 'from-a-shared-file\n', 0o644) });
    expect(c.tokenSecret).toBe('from-a-shared-file');
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/PROXMOX_TOKEN_SECRET_FILE: .*shared can be read by other users \(mode 644\); restrict it with chmod 600/);
    expect(c.warnings[0]).not.toContain('from-a-shared-file');
  });

  it('refuses both forms at once, a missing file and an empty one', () => {
    const path = write('both', 'x-secret-value\n', 0o600);
    expect(() => loadConfig({ ...BASE, PROXMOX_TOKEN_SECRET_FILE: path })).toThrow(/PROXMOX_TOKEN_SECRET and PROXMOX_TOKEN_SECRET_FILE are both set/);
    expect(() => loadConfig({ ...withoutSecret, PROXMOX_TOKEN_SECRET_FILE: join(dir, 'missing') })).toThrow(/PROXMOX_TOKEN_SECRET_FILE: cannot read .*missing \(ENOENT\)/);
    expect(() => loadConfig({ ...withoutSecret, PROXMOX_TOKEN_SECRET_FILE: write('empty', '\n', 0o600) })).toThrow(/PROXMOX_TOKEN_SECRET_FILE: .*empty is empty/);
  });
});

describe('PROXMOX_SERVICE', () => {
  it('selects an API description, and names the ones there are when it is unknown', () => {
    expect(loadConfig({ ...BASE, PROXMOX_SERVICE: 'pve' }).api.product).toBe('Proxmox VE');
    expect(() => loadConfig({ ...BASE, PROXMOX_SERVICE: 'XYZ' })).toThrow(/PROXMOX_SERVICE "XYZ" is not supported: this server speaks to .*PVE \(Proxmox VE\)/);
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
