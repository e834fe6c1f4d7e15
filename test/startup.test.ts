// Bad configuration stops start-up with a non-zero exit and one clear line on stderr; the secret is never printed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/mcp.js';

const SECRET = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const GOOD = { PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: '1', PROXMOX_TOKEN_ID: 'root@pam!mcp', PROXMOX_TOKEN_SECRET: SECRET };

function start(env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? '', ...env }, input: '', encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const cases: [string, Record<string, string>, RegExp][] = [
  ['missing host', { ...GOOD, PROXMOX_HOST: '' }, /PROXMOX_HOST is required/],
  ['host with a scheme', { ...GOOD, PROXMOX_HOST: 'https://pve:8006' }, /PROXMOX_HOST must be a host name/],
  ['missing token id', { ...GOOD, PROXMOX_TOKEN_ID: '' }, /PROXMOX_TOKEN_ID is required/],
  ['malformed token id', { ...GOOD, PROXMOX_TOKEN_ID: 'root' }, /PROXMOX_TOKEN_ID must look like USER@REALM!TOKENNAME/],
  ['missing secret', { ...GOOD, PROXMOX_TOKEN_SECRET: '' }, /PROXMOX_TOKEN_SECRET is required/],
  ['port out of range', { ...GOOD, PROXMOX_PORT: '70000' }, /PROXMOX_PORT must be a whole number from 1 to 65535/],
  ['port not a number', { ...GOOD, PROXMOX_PORT: '80a' }, /PROXMOX_PORT/],
  ['verify not a boolean', { ...GOOD, PROXMOX_VERIFY_SSL: 'maybe' }, /PROXMOX_VERIFY_SSL must be true or false/],
  ['another service', { ...GOOD, PROXMOX_SERVICE: 'PMG' }, /PROXMOX_SERVICE "PMG" is not supported/],
  ['bad log level', { ...GOOD, PROXMOX_LOG_LEVEL: 'LOUD' }, /PROXMOX_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR/],
  ['unreadable CA file', { ...GOOD, PROXMOX_SSL_CERT: '/nonexistent/ca.pem' }, /PROXMOX_SSL_CERT: cannot read/],
  ['bad fingerprint', { ...GOOD, PROXMOX_TLS_FINGERPRINT: 'AB:CD' }, /PROXMOX_TLS_FINGERPRINT must be a SHA-256 fingerprint/],
  ['missing config file', { ...GOOD, PROXMOX_HOST: '', PROXMOX_MCP_CONFIG: '/nonexistent.json' }, /PROXMOX_MCP_CONFIG: cannot read/],
  ['bad timeout', { ...GOOD, PROXMOX_TIMEOUT_MS: '-5' }, /PROXMOX_TIMEOUT_MS must be a whole number/],
];

describe('start-up refuses bad configuration', () => {
  it.each(cases)('%s', (_name, env, message) => {
    const r = start(env);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toContain(SECRET);
  });

  it('refuses a malformed secret without echoing it', () => {
    const r = start({ ...GOOD, PROXMOX_TOKEN_SECRET: 'has space-secretvalue' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/PROXMOX_TOKEN_SECRET holds characters/);
    expect(r.stderr).not.toContain('secretvalue');
  });

  it('refuses a secret too short to be redacted, without echoing it', () => {
    const r = start({ ...GOOD, PROXMOX_TOKEN_SECRET: 'zq7x' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PROXMOX_TOKEN_SECRET is too short to be a token secret/);
    expect(r.stderr).not.toContain('zq7x');
  });

  it('refuses a malformed config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmcp-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, '{ not json');
    const r = start({ PROXMOX_MCP_CONFIG: file });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/PROXMOX_MCP_CONFIG: .* is not valid JSON/);
  });

  it('refuses a custom manifest that does not check, naming tool and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmcp-'));
    const file = join(dir, 'tools.yaml');
    writeFileSync(file, 'version: 1\ntools:\n  - name: bad_tool\n    title: Bad\n    description: A tool whose path does not exist anywhere.\n    path: /nodes/{node}/nothing\n    privilege: Sys.Audit\n    toolset: cluster\n');
    const r = start({ ...GOOD, PROXMOX_MCP_TOOLS: file });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/tools\.yaml:6: tool "bad_tool": path: \/nodes\/\{node\}\/nothing is not a GET operation/);
  });

  it('prints usage for --help and refuses unknown arguments', () => {
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stderr).toMatch(/doctor/);
    expect(help.stdout).toBe('');
    const bad = spawnSync(process.execPath, [CLI, '--bogus'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown argument "--bogus"/);
  });
});
