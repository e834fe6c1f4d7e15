// The request guard is the last check before a request leaves: GET only, an allowed template, the
// configured host and base path, and path values that cannot climb out of their segment.
import { describe, expect, it } from 'vitest';
import { checkRequest, GuardError } from '../src/proxmox/client.js';

const BASE = new URL('https://pve.example:8006/api2/json');
const ALLOWED = new Set(['/nodes', '/nodes/{node}/status', '/nodes/{node}/qemu/{vmid}/config', '/cluster/resources']);

function check(url: string, template = '/nodes/{node}/status', method = 'GET'): void {
  checkRequest(method, new URL(url), BASE, template, ALLOWED);
}

const at = (path: string): string => `https://pve.example:8006/api2/json${path}`;

describe('checkRequest', () => {
  it('lets an allowed GET through', () => {
    expect(() => { check(at('/nodes/pve1/status')); }).not.toThrow();
    expect(() => { check(at('/nodes/pve1/qemu/100/config?current=1'), '/nodes/{node}/qemu/{vmid}/config'); }).not.toThrow();
    expect(() => { check(at('/cluster/resources?type=storage'), '/cluster/resources'); }).not.toThrow();
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get'])('refuses %s', (method) => {
    expect(() => { check(at('/nodes/pve1/status'), '/nodes/{node}/status', method); }).toThrow(/refused .*only reads/);
  });

  it("lets through the \\xHH escapes Proxmox Backup Server writes into task IDs, and no other backslash", () => {
    const upid = 'UPID:pbs1:000003EA:0007A122:00000002:6A187CA0:verificationjob:store1%5Cx3av-nightly:root@pam:';
    expect(() => { check(at(`/nodes/localhost/${upid}`)); }).toThrow(/does not match/);
    const tasks = new Set(['/nodes/{node}/tasks/{upid}/status']);
    const task = (value: string): void => {
      checkRequest('GET', new URL(at(`/nodes/localhost/tasks/${value}/status`)), BASE, '/nodes/{node}/tasks/{upid}/status', tasks);
    };
    expect(() => { task(upid); }).not.toThrow();
    for (const bad of ['a%5Cb', 'a%5Cx3', 'a%5C', '%5C..', 'a%5Cx3g']) expect(() => { task(bad); }, bad).toThrow(GuardError);
  });

  it('refuses a template no tool may read, even when the URL matches it', () => {
    expect(() => { check(at('/nodes/pve1/qemu/100/status/stop'), '/nodes/{node}/qemu/{vmid}/status/stop'); }).toThrow(/not a path any tool may read/);
    expect(() => { check(at('/access/users'), '/access/users'); }).toThrow(GuardError);
  });

  it.each([
    ['plain ..', '/nodes/../status'],
    ['encoded ..', '/nodes/%2e%2e/status'],
    ['mixed-case encoded ..', '/nodes/%2E./status'],
    ['.', '/nodes/./status'],
    ['.. that climbs out of the base', '/nodes/pve1/../../../../etc/passwd'],
  ])('refuses dot segments: %s', (_name, path) => {
    expect(() => { check(at(path)); }).toThrow(GuardError);
  });

  it.each([
    ['encoded slash', '/nodes/pve1%2Fqemu/status'],
    ['lower-case encoded slash', '/nodes/a%2fb/status'],
    ['encoded ../', '/nodes/..%2fstatus/status'],
    ['encoded backslash', '/nodes/a%5Cb/status'],
    ['encoded NUL', '/nodes/pve1%00/status'],
    ['encoded CRLF', '/nodes/pve1%0D%0AX-Injected:1/status'],
    ['malformed UTF-8', '/nodes/%C0%AE/status'],
    ['a lone percent', '/nodes/pve%/status'],
  ])('refuses unsafe path values: %s', (_name, path) => {
    expect(() => { check(at(path)); }).toThrow(GuardError);
  });

  it.each([
    ['another host', 'https://evil.example:8006/api2/json/nodes/pve1/status'],
    ['another port', 'https://pve.example:8007/api2/json/nodes/pve1/status'],
    ['another scheme', 'http://pve.example:8006/api2/json/nodes/pve1/status'],
    ['user info', 'https://root:pw@pve.example:8006/api2/json/nodes/pve1/status'],
  ])('refuses %s', (_name, url) => {
    expect(() => { check(url); }).toThrow(GuardError);
  });

  it('refuses a path outside the API base', () => {
    expect(() => { check('https://pve.example:8006/nodes/pve1/status'); }).toThrow(/left the API base path/);
    expect(() => { check('https://pve.example:8006/api2/extjs/nodes/pve1/status'); }).toThrow(GuardError);
  });

  it('refuses extra or missing path segments', () => {
    expect(() => { check(at('/nodes/pve1/extra/status')); }).toThrow(/does not match/);
    expect(() => { check(at('/nodes/pve1/status/extra')); }).toThrow(/does not match/);
    expect(() => { check(at('/nodes/status')); }).toThrow(/does not match/);
    expect(() => { check(at('/nodes/pve1/qemu/100/config/x'), '/nodes/{node}/qemu/{vmid}/config'); }).toThrow(/does not match/);
    expect(() => { check(at('/nodes/'), '/nodes'); }).toThrow(/does not match/);
  });

  it('refuses a fragment, odd query names and control characters in query values', () => {
    expect(() => { check(at('/nodes/pve1/status#frag')); }).toThrow(GuardError);
    expect(() => { check(at('/nodes/pve1/status?x%0d%0aHost:evil=1')); }).toThrow(/query parameter name/);
    expect(() => { check(at('/nodes/pve1/status?__proto__=1')); }).toThrow(/query parameter name/);
    expect(() => { check(at('/cluster/resources?type=vm%0D%0AX:1'), '/cluster/resources'); }).toThrow(/control characters/);
  });

  it('refuses a URL the parser resolved to another value than the one validated', () => {
    // `pve1\..\x` becomes /nodes/x/status: a legal-looking path that names another node.
    const url = new URL(at('/nodes/pve1\\..\\x/status'));
    expect(url.pathname).toBe('/api2/json/nodes/x/status');
    expect(() => { checkRequest('GET', url, BASE, '/nodes/{node}/status', ALLOWED, { node: 'pve1\\..\\x' }); }).toThrow(/validated value of node/);
    expect(() => { checkRequest('GET', new URL(at('/nodes/pve2/status')), BASE, '/nodes/{node}/status', ALLOWED, { node: 'pve1' }); }).toThrow(GuardError);
    expect(() => { checkRequest('GET', new URL(at('/nodes/pve1/qemu/100/config')), BASE, '/nodes/{node}/qemu/{vmid}/config', ALLOWED, { node: 'pve1', vmid: 100 }); }).not.toThrow();
    expect(() => { checkRequest('GET', new URL(at('/nodes/pve%201/status')), BASE, '/nodes/{node}/status', ALLOWED, { node: 'pve 1' }); }).not.toThrow();
  });

  it('treats template syntax literally', () => {
    // A template with regex characters must not turn into a pattern that matches more.
    const allowed = new Set(['/nodes/{node}/status']);
    expect(() => { checkRequest('GET', new URL(at('/nodesX/pve1/status')), BASE, '/nodes/{node}/status', allowed); }).toThrow(GuardError);
  });
});
