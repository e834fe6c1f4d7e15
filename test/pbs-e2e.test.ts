// End to end for Proxmox Backup Server, as a host runs it: the built server spawned over stdio with
// PROXMOX_SERVICE=PBS, the SDK's client, the fake PBS over real TLS with the CA file and verification on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASTORE_AUDIT, pbsToken, startFakePbs, type FakePbs } from './fake-pbs/index.js';
import { call, connect, fakeEnv, type Connected } from './support/mcp.js';
import manifest from '../src/generated/manifest-pbs.json' with { type: 'json' };
import pveManifest from '../src/generated/manifest.json' with { type: 'json' };
import { pbs } from '../src/proxmox/api/pbs.js';
import { SpecIndex, validateParams } from './fake-proxmox/spec.js';

const PBS_SPEC = SpecIndex.load(new URL('../spec/proxmox-backup.openapi.json', import.meta.url).pathname);

const NODE = { node: 'localhost' };

function templateRegex(template: string): RegExp {
  return new RegExp(`^/api2/json${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
}

function items(r: { structured: Record<string, unknown> | undefined }): Record<string, unknown>[] {
  return (r.structured?.items ?? []) as Record<string, unknown>[];
}

describe('every Proxmox Backup Server tool over stdio', () => {
  let fake: FakePbs;
  let mcp: Connected;
  beforeAll(async () => {
    fake = await startFakePbs();
    mcp = await connect(fakeEnv(fake, { PROXMOX_SERVICE: 'PBS' }));
  });
  afterAll(async () => {
    await mcp.close();
    await fake.close();
  });

  /** A call that must fail, and must not have reached the fake. */
  async function refused(name: string, args: Record<string, unknown>): Promise<string> {
    const before = fake.requests.length;
    const r = await call(mcp.client, name, args);
    expect(r.isError, name).toBe(true);
    expect(fake.requests.length, `${name} sent a request`).toBe(before);
    return r.text;
  }

  /** A call answered by a fault: PBS's plain-text error body comes through as its words. */
  async function upstreamFailure(name: string, args: Record<string, unknown>, path: string, status: number, body: string): Promise<string> {
    fake.setFault(path, { kind: 'status', status, body });
    try {
      const r = await call(mcp.client, name, args);
      expect(r.isError, name).toBe(true);
      return r.text;
    } finally {
      fake.setFault(path, null);
    }
  }

  it('lists exactly the PBS manifest, no Proxmox VE tool, all four annotations set', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(manifest.tools.map((t) => t.name));
    expect(tools.length).toBeGreaterThanOrEqual(16);
    const pveNames = new Set(pveManifest.tools.map((t) => t.name));
    for (const tool of tools) {
      expect(tool.name.startsWith('pbs_')).toBe(true);
      expect(pveNames.has(tool.name)).toBe(false);
      expect(tool.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    }
    expect(mcp.client.getInstructions()).toContain('Proxmox Backup Server');
  });

  it('matches the committed tools/list snapshot of the PBS tools', async () => {
    // Update deliberately with `npx vitest run -u`: any change to the PBS tool surface shows in review.
    const { tools } = await mcp.client.listTools();
    await expect(`${JSON.stringify(tools, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/tools-list-pbs.json');
  });

  it('pbs_list_datastores: usage and estimated full date; a server error in PBS words', async () => {
    const r = await call(mcp.client, 'pbs_list_datastores');
    expect(r.isError).toBe(false);
    const rows = items(r);
    expect(rows.map((d) => d.store)).toEqual(['offsite', 'store1']);
    const store1 = rows.find((d) => d.store === 'store1') ?? {};
    expect(store1.used_pct).toBe(77.5);
    expect(store1['estimated-full-date']).toMatch(/^2026-\d\d-\d\dT/);
    expect(store1.total).toMatch(/TiB$/);
    expect(store1).not.toHaveProperty('history');
    const text = await upstreamFailure('pbs_list_datastores', {}, '/status/datastore-usage', 500, 'unable to read datastore config');
    expect(text).toMatch(/500.*unable to read datastore config/);
  });

  it('pbs_datastore_status: one datastore with backup counts; an unknown one names the listing tool', async () => {
    const r = await call(mcp.client, 'pbs_datastore_status', { store: 'store1' });
    expect(r.isError).toBe(false);
    expect(r.structured?.used).toMatch(/TiB$/);
    expect((r.structured?.counts as Record<string, { snapshots: number }>).vm?.snapshots).toBe(9);
    const bad = await call(mcp.client, 'pbs_datastore_status', { store: 'nosuch' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/Unknown datastore: no such datastore 'nosuch'.*pbs_list_datastores/);
  });

  it('pbs_gc_status: last run, state and next run; a malformed store is refused before sending', async () => {
    const r = await call(mcp.client, 'pbs_gc_status', { store: 'store1' });
    const [gc] = items(r);
    expect(gc).toMatchObject({ store: 'store1', 'last-run-state': 'ok', schedule: 'daily' });
    expect(gc?.['next-run']).toMatch(/^20\d\d-/);
    expect(gc?.['removed-bytes']).toMatch(/GiB$/);
    expect(await refused('pbs_gc_status', { store: '-bad/../x' })).toMatch(/store/);
  });

  it('pbs_list_groups: groups of a namespace, never their file lists; an unknown datastore fails clearly', async () => {
    const root = await call(mcp.client, 'pbs_list_groups', { store: 'store1', sort: 'backup-count', order: 'desc' });
    const rows = items(root);
    expect(rows.map((g) => `${String(g['backup-type'])}/${String(g['backup-id'])}`)).toEqual(['vm/100', 'vm/101', 'ct/200', 'host/fileserver']);
    for (const g of rows) expect(g).not.toHaveProperty('files');
    const db = await call(mcp.client, 'pbs_list_groups', { store: 'store1', ns: 'prod/db' });
    expect(items(db)).toEqual([expect.objectContaining({ 'backup-id': '300', comment: 'pg-primary' })]);
    const vms = await call(mcp.client, 'pbs_list_groups', { store: 'store1', type: 'vm' });
    expect(items(vms).every((g) => g['backup-type'] === 'vm')).toBe(true);
    const bad = await call(mcp.client, 'pbs_list_groups', { store: 'nosuch' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/Unknown datastore/);
  });

  it('pbs_list_snapshots: metadata only (verification, protected, size); a bad namespace is refused before sending', async () => {
    const r = await call(mcp.client, 'pbs_list_snapshots', { store: 'store1', backup_type: 'vm', backup_id: '101' });
    const rows = items(r);
    expect(rows).toHaveLength(3);
    for (const s of rows) {
      expect(Object.keys(s).sort()).toEqual(expect.arrayContaining(['backup-id', 'backup-time', 'backup-type', 'owner', 'protected', 'size']));
      expect(s).not.toHaveProperty('files');
      expect(s).not.toHaveProperty('fingerprint');
      expect(typeof s.protected).toBe('boolean');
    }
    expect(rows.map((s) => (s.verification as { state?: string } | undefined)?.state)).toEqual(['ok', 'failed', undefined]);
    const newest = await call(mcp.client, 'pbs_list_snapshots', { store: 'store1', sort: 'backup-time', order: 'desc', limit: 1 });
    expect(items(newest)).toEqual([expect.objectContaining({ 'backup-id': '100', comment: 'nightly', protected: false })]);
    expect(await refused('pbs_list_snapshots', { store: 'store1', ns: 'a//b' })).toMatch(/ns/);
  });

  it('pbs_list_namespaces: the tree; a permission failure names the read-only grant', async () => {
    const r = await call(mcp.client, 'pbs_list_namespaces', { store: 'store1' });
    expect(items(r).map((n) => n.ns)).toEqual(['', 'prod', 'prod/db', 'test']);
    const text = await upstreamFailure('pbs_list_namespaces', { store: 'store1' }, '/admin/datastore/store1/namespace', 403, 'permission check failed');
    expect(text).toMatch(/Permission denied by Proxmox: permission check failed.*Datastore\.Audit.*the Audit role on \//);
  });

  it('job lists: prune, verify, sync and tape backup jobs with last run and state; each fails clearly', async () => {
    const cases = [
      ['pbs_list_prune_jobs', '/admin/prune', 'p-daily', 'ok'],
      ['pbs_list_verify_jobs', '/admin/verify', 'v-nightly', 'verification failed - please check the log for details'],
      ['pbs_list_sync_jobs', '/admin/sync', 's-offsite', 'ok'],
      ['pbs_list_tape_backup_jobs', '/tape/backup', 't-weekly', 'ok'],
    ] as const;
    for (const [name, path, id, state] of cases) {
      const r = await call(mcp.client, name);
      expect(r.isError, name).toBe(false);
      const [job] = items(r);
      expect(job, name).toMatchObject({ id, 'last-run-state': state });
      expect(job?.['last-run-endtime'], name).toMatch(/^20\d\d-/);
      expect(job?.['next-run'], name).toMatch(/^20\d\d-/);
      const text = await upstreamFailure(name, {}, path, 500, `unable to parse ${id} job config`);
      expect(text, name).toContain(`unable to parse ${id} job config`);
    }
    const sync = await call(mcp.client, 'pbs_list_sync_jobs', { direction: 'push' });
    expect(items(sync)).toEqual([]);
    expect(await refused('pbs_list_sync_jobs', { direction: 'sideways' })).toMatch(/direction/);
  });

  it('tasks: list, status and log; wrong node, unknown task and a short UPID fail clearly', async () => {
    const list = await call(mcp.client, 'pbs_list_tasks', { ...NODE, errors: true });
    const failedTasks = items(list);
    expect(failedTasks.map((t) => t.worker_type)).toEqual(['verificationjob']);
    const upid = String(failedTasks[0]?.upid);
    const all = await call(mcp.client, 'pbs_list_tasks', { ...NODE, limit: 2 });
    expect(all.structured).toMatchObject({ total: 5, next_offset: 2 });
    const status = await call(mcp.client, 'pbs_task_status', { ...NODE, upid });
    expect(status.structured).toMatchObject({ status: 'stopped', type: 'verificationjob' });
    expect(status.structured?.exitstatus).toMatch(/verification failed/);
    const log = await call(mcp.client, 'pbs_task_log', { ...NODE, upid });
    const lines = items(log) as unknown as string[];
    expect(lines[0]).toMatch(/Starting datastore verification job/);
    // Untrusted text: the bidi override in the log is gone.
    expect(lines.join('\n')).not.toMatch(/\u202e/);
    expect(await refused('pbs_list_tasks', { node: 'pbs2' })).toMatch(/node/);
    const unknown = await call(mcp.client, 'pbs_task_status', { ...NODE, upid: upid.replace(/:00000002:/, ':0000FFFF:') });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toMatch(/Unknown task.*pbs_list_tasks/);
    expect(await refused('pbs_task_log', { ...NODE, upid: 'UPID:short' })).toMatch(/upid/);
  });

  it('pbs_node_status, pbs_version, pbs_list_remotes: answered, and failures in PBS words', async () => {
    const node = await call(mcp.client, 'pbs_node_status', NODE);
    expect(node.structured?.cpu_pct).toEqual(expect.any(Number));
    expect((node.structured?.memory as Record<string, unknown>).total).toBe('32.0 GiB');
    expect(node.structured).not.toHaveProperty('info');
    expect((await call(mcp.client, 'pbs_version')).structured).toMatchObject({ version: '4.0.14', release: '4.0' });
    const remotes = await call(mcp.client, 'pbs_list_remotes');
    expect(items(remotes)).toEqual([{ name: 'pbs-dr', host: 'dr.example.net', port: 8007, 'auth-id': 'sync@pbs', comment: 'disaster recovery site' }]);

    expect(await upstreamFailure('pbs_node_status', NODE, '/nodes/localhost/status', 500, 'unable to read /proc/meminfo')).toContain('unable to read /proc/meminfo');
    expect(await upstreamFailure('pbs_version', {}, '/version', 401, 'authentication failed - invalid token secret')).toMatch(/rejected the API token \(401\)/);
    expect(await upstreamFailure('pbs_list_remotes', {}, '/config/remote', 403, 'permission check failed')).toMatch(/Permission denied.*Remote\.Audit/);
  });

  it('answers hostile arguments to every tool without sending anything outside its template', async () => {
    const hostile = ['..', '../..', '%2e%2e', 'a/b', '\\', 'store1\\..', 'x\r\nX-Injected: 1', '\u0000', 'store1?x=1', 'store1#f', '__proto__', 'A'.repeat(5000), '\u202Estore1'];
    for (const tool of manifest.tools) {
      const props = tool.inputSchema.properties as Record<string, { type?: string; enum?: unknown[] }>;
      for (const [arg, schema] of Object.entries(props)) {
        if (schema.type !== 'string' && schema.enum === undefined) continue;
        for (const value of hostile) {
          const base: Record<string, unknown> = 'node' in props ? { ...NODE } : {};
          if ('store' in props && tool.inputSchema.required?.includes('store') === true) base.store = 'store1';
          if ('upid' in props) base.upid = 'UPID:pbs1:000003E9:0007A121:00000001:6A1888E0:garbage_collection:store1:root@pam:';
          const r = await call(mcp.client, tool.name, { ...base, [arg]: value });
          expect(typeof r.text, `${tool.name} ${arg}`).toBe('string');
        }
      }
    }
    expect((await call(mcp.client, 'pbs_version')).isError).toBe(false);
  });

  it('sent only GETs to the PBS templates the manifest allows (and the token check), with the PBS token header', () => {
    const allowed = [...manifest.tools.map((t) => t.path), pbs.permissionsPath, pbs.versionPath].map(templateRegex);
    expect(fake.requests.length).toBeGreaterThan(20);
    for (const r of fake.requests) {
      expect(r.method).toBe('GET');
      expect(allowed.some((re) => re.test(r.path)), r.path).toBe(true);
      // Every value sent satisfies the pin: arguments are checked against its rules before sending.
      const segments = r.path.slice('/api2/json'.length).split('/').filter((x) => x !== '').map(decodeURIComponent);
      const match = PBS_SPEC.match('GET', segments);
      expect(match?.op, r.path).toBeDefined();
      if (match?.op !== undefined) expect(validateParams(match.op, match.pathParams, r.query, { search: true }), r.path).toEqual({});
      expect(r.headers.authorization).toBe(`PBSAPIToken=${fake.tokenId}:${fake.tokenSecret}`);
    }
  });

  it('never shows the secret, not even when PBS echoes the token header in an error, and logs only to stderr', async () => {
    const echoed = `authentication failed - bad header 'PBSAPIToken=${fake.tokenId}:${fake.tokenSecret}'`;
    const text = await upstreamFailure('pbs_list_remotes', {}, '/config/remote', 400, echoed);
    expect(text).toContain('bad header');
    expect(text).not.toContain(fake.tokenSecret);
    expect(text).not.toContain(fake.tokenSecret.slice(0, 12));
    expect(mcp.stderr()).toContain('serving 16 read-only tools');
    expect(mcp.stderr()).toContain('bad header');
    expect(mcp.stderr()).not.toContain(fake.tokenSecret);
  });
});

describe('Proxmox Backup Server tokens', () => {
  it('a wrong secret gives the 401 explanation, and the secret is not echoed', async () => {
    const fake = await startFakePbs();
    const wrong = 'wrong-secret-0000-1111';
    const mcp = await connect(fakeEnv(fake, { PROXMOX_SERVICE: 'PBS', PROXMOX_TOKEN_SECRET: wrong }));
    try {
      const r = await call(mcp.client, 'pbs_list_datastores');
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/rejected the API token \(401\).*PROXMOX_TOKEN_SECRET/);
      expect(r.text).not.toContain(wrong);
      expect(mcp.stderr()).not.toContain(wrong);
    } finally {
      await mcp.close();
      await fake.close();
    }
  });

  it('a DatastoreAudit-only token sees its datastores; the server status is refused with the grant to add', async () => {
    const token = pbsToken('audit@pbs!ds', { '/datastore': { ...DATASTORE_AUDIT } });
    const fake = await startFakePbs({ tokens: [token] });
    const mcp = await connect(fakeEnv(fake, { PROXMOX_SERVICE: 'PBS' }));
    try {
      expect(items(await call(mcp.client, 'pbs_list_datastores')).map((d) => d.store)).toEqual(['offsite', 'store1']);
      const r = await call(mcp.client, 'pbs_node_status', NODE);
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/Permission denied.*Sys\.Audit.*the Audit role/);
      expect(items(await call(mcp.client, 'pbs_list_remotes'))).toEqual([]);
    } finally {
      await mcp.close();
      await fake.close();
    }
  });

  it('a token that may change things is named at start-up, with the read-only grant to use instead', async () => {
    const token = pbsToken('admin@pbs!all', { '/': { 'Datastore.Audit': 1, 'Datastore.Modify': 1, 'Sys.Audit': 1 } });
    const fake = await startFakePbs({ tokens: [token] });
    const mcp = await connect(fakeEnv(fake, { PROXMOX_SERVICE: 'PBS' }));
    try {
      await call(mcp.client, 'pbs_version');
      await expect.poll(() => mcp.stderr(), { timeout: 5000 }).toMatch(/beyond read-only auditing: \/: Datastore\.Modify/);
      expect(mcp.stderr()).toContain('the Audit role on /');
    } finally {
      await mcp.close();
      await fake.close();
    }
  });
});
