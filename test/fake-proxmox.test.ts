import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeProxmox } from './fake-proxmox/index.js';
import { auditorToken, makeBigCluster, makeCluster, makeToken, startFakeProxmox } from './fake-proxmox/index.js';

interface Answer {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface CallOptions {
  /** Full Authorization header; null sends none. Default: the fake's default token. */
  auth?: string | null;
  method?: string;
  timeoutMs?: number;
  agent?: Agent;
}

function call(fake: FakeProxmox, path: string, options: CallOptions = {}): Promise<Answer> {
  const auth = options.auth === undefined ? `PVEAPIToken=${fake.tokenId}=${fake.tokenSecret}` : options.auth;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: fake.host,
        port: fake.port,
        path: path.startsWith('/api2/') || path.startsWith('/pve-docs/') ? path : `/api2/json${path}`,
        method: options.method ?? 'GET',
        ca: fake.caPem,
        agent: options.agent ?? false,
        headers: auth === null ? {} : { Authorization: auth },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) {
            reject(new Error('incomplete body'));
            return;
          }
          resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
    }
    req.on('error', reject);
    req.end();
  });
}

async function data(fake: FakeProxmox, path: string, options: CallOptions = {}): Promise<unknown> {
  const answer = await call(fake, path, options);
  expect(answer.status, `${path}: ${answer.reason}`).toBe(200);
  return (JSON.parse(answer.body) as { data: unknown }).data;
}

type Row = Record<string, unknown>;

describe('fake Proxmox: envelopes, auth and errors', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('wraps answers in {data} and adds total beside data for paged lists', async () => {
    const version = await call(fake, '/version');
    expect(version.headers['content-type']).toBe('application/json;charset=UTF-8');
    expect(JSON.parse(version.body)).toEqual({ data: expect.objectContaining({ release: '9.1', version: '9.1.1' }) as unknown });
    const tasks = JSON.parse((await call(fake, '/nodes/pve1/tasks?limit=2')).body) as { data: Row[]; total: number };
    expect(tasks.data).toHaveLength(2);
    expect(tasks.total).toBeGreaterThan(2);
  });

  it('keeps the connection alive on success and closes it after an error', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: fake.caPem });
    const before = fake.connections;
    const ok1 = await call(fake, '/version', { agent });
    const ok2 = await call(fake, '/nodes', { agent });
    expect([ok1.status, ok2.status]).toEqual([200, 200]);
    expect(fake.connections - before).toBe(1);
    const failed = await call(fake, '/nodes/pve1/qemu/999/config', { agent });
    expect(failed.headers['connection']).toBe('close');
    await call(fake, '/version', { agent });
    expect(fake.connections - before).toBe(2);
    agent.destroy();
  });

  it('answers 401 with an empty body and the reason phrase', async () => {
    const missing = await call(fake, '/version', { auth: null });
    expect([missing.status, missing.reason, missing.body]).toEqual([401, 'No ticket', '']);
    const wrong = await call(fake, '/version', { auth: `PVEAPIToken=${fake.tokenId}=00000000-0000-0000-0000-000000000000` });
    expect([wrong.status, wrong.reason, wrong.body]).toEqual([401, 'authentication failure', '']);
    const bearer = await call(fake, '/version', { auth: `Bearer ${fake.tokenSecret}` });
    expect(bearer.status).toBe(401);
    expect(wrong.headers['connection']).toBe('close');
  });

  it('answers 595 with an empty body for every path of an offline node', async () => {
    for (const path of ['/nodes/pve3/status', '/nodes/pve3/qemu', '/nodes/pve3/qemu/108/status/current', '/nodes/pve3/tasks?bogus=1']) {
      const answer = await call(fake, path);
      expect([answer.status, answer.reason, answer.body], path).toEqual([595, 'No route to host', '']);
    }
  });

  it('describes the offline node without metrics in cluster-wide lists', async () => {
    const nodes = (await data(fake, '/nodes')) as Row[];
    const pve3 = nodes.find((n) => n['node'] === 'pve3');
    expect(pve3?.['status']).toBe('offline');
    expect(pve3).not.toHaveProperty('cpu');
    expect(pve3).not.toHaveProperty('maxmem');
    expect(nodes.find((n) => n['node'] === 'pve1')).toHaveProperty('cpu');

    const resources = (await data(fake, '/cluster/resources')) as Row[];
    const row = resources.find((r) => r['id'] === 'node/pve3');
    expect(Object.keys(row ?? {}).sort()).toEqual(['cgroup-mode', 'id', 'node', 'status', 'type']);
    expect(row?.['status']).toBe('offline');
    const orphans = resources.filter((r) => r['node'] === 'pve3' && (r['type'] === 'qemu' || r['type'] === 'lxc'));
    expect(orphans.length).toBeGreaterThan(0);
    for (const guest of orphans) {
      expect(guest['status']).toBe('unknown');
      expect(guest).not.toHaveProperty('cpu');
      expect(guest).not.toHaveProperty('mem');
    }
    const status = (await data(fake, '/cluster/status')) as Row[];
    expect(status.find((r) => r['name'] === 'pve3')).toMatchObject({ type: 'node', online: 0 });
    expect(status.find((r) => r['type'] === 'cluster')).toMatchObject({ quorate: 1, nodes: 3 });
  });

  it('uses 500 for unknown nodes, missing guests and guest-agent failures', async () => {
    const cases: [string, string][] = [
      ['/nodes/nosuch/status', "hostname lookup 'nosuch' failed - failed to get address info for: nosuch: Name or service not known"],
      ['/nodes/pve1/qemu/999/config', "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"],
      ['/nodes/pve2/qemu/100/status/current', "Configuration file 'nodes/pve2/qemu-server/100.conf' does not exist"],
      ['/nodes/pve1/lxc/100/config', "Configuration file 'nodes/pve1/lxc/100.conf' does not exist"],
      ['/nodes/pve1/qemu/101/agent/get-osinfo', 'VM 101 is not running'],
      ['/cluster/ceph/status', 'binary not installed: /usr/bin/ceph-mon'],
    ];
    for (const [path, message] of cases) {
      const answer = await call(fake, path);
      expect([answer.status, answer.reason], path).toEqual([500, message]);
      expect(JSON.parse(answer.body)).toEqual({ data: null, message: `${message}\n` });
    }
    const cluster = makeCluster();
    const noAgent = cluster.guests.find((g) => g.type === 'qemu' && g.status === 'running' && g.agent === undefined && g.node !== 'pve3');
    expect(noAgent).toBeDefined();
    const answer = await call(fake, `/nodes/${noAgent?.node ?? ''}/qemu/${noAgent?.vmid ?? 0}/agent/get-fsinfo`);
    expect([answer.status, answer.reason]).toEqual([500, 'No QEMU guest agent configured']);
  });

  it('wraps guest-agent answers in {result}', async () => {
    const os = (await data(fake, '/nodes/pve1/qemu/100/agent/get-osinfo')) as { result: Row };
    expect(os.result['id']).toBe('debian');
    const nics = (await data(fake, '/nodes/pve1/qemu/100/agent/network-get-interfaces')) as { result: Row[] };
    const notRunning = await call(fake, '/nodes/pve2/qemu/105/agent/get-osinfo');
    expect([notRunning.status, notRunning.reason]).toEqual([500, 'QEMU guest agent is not running']);
    expect(nics.result.map((n) => n['name'])).toContain('eth0');
    const failed = (await data(fake, '/nodes/pve2/qemu/107/agent/get-fsinfo')) as { result: { error: Row } };
    expect(failed.result.error['class']).toBe('GenericError');
  });

  it('validates parameters against the spec with 400 and the parameter named', async () => {
    const unknown = await call(fake, '/nodes?verbose=1');
    expect([unknown.status, unknown.reason]).toEqual([400, 'Parameter verification failed.']);
    expect(JSON.parse(unknown.body)).toEqual({
      data: null,
      errors: { verbose: 'property is not defined in schema and the schema does not allow additional properties\n' },
    });
    const lxc = JSON.parse((await call(fake, '/cluster/resources?type=lxc')).body) as { errors: Row };
    expect(lxc.errors['type']).toMatch(/enumeration 'vm, storage, node, sdn'/);
    const vmid = JSON.parse((await call(fake, '/nodes/pve1/qemu/abc/status/current')).body) as { errors: Row };
    expect(vmid.errors['vmid']).toBe("type check ('integer') failed - got 'abc'\n");
    const low = JSON.parse((await call(fake, '/nodes/pve1/qemu/99/config')).body) as { errors: Row };
    expect(low.errors['vmid']).toBe('value must have a minimum value of 100\n');
    const missing = JSON.parse((await call(fake, '/nodes/pve1/rrddata')).body) as { errors: Row };
    expect(missing.errors['timeframe']).toBe('property is missing and it is not optional\n');
    const duplicate = JSON.parse((await call(fake, '/nodes/pve1/status?node=pve2')).body) as { errors: Row };
    expect(duplicate.errors['node']).toBe('duplicate parameter (already defined in URI)\n');
  });

  it('answers 501 for unknown paths and other methods, and records them', async () => {
    const unknown = await call(fake, '/nodes/pve1/nonsense');
    expect([unknown.status, unknown.reason]).toEqual([501, "Method 'GET /nodes/pve1/nonsense' not implemented"]);
    const post = await call(fake, '/nodes/pve1/qemu/100/status/stop', { method: 'POST' });
    expect([post.status, post.reason]).toEqual([501, "Method 'POST /nodes/pve1/qemu/100/status/stop' not implemented"]);
    const head = await call(fake, '/version', { method: 'HEAD' });
    expect(head.status).toBe(501);
    expect(fake.requests.filter((r) => r.method === 'POST').map((r) => [r.path, r.status])).toEqual([
      ['/api2/json/nodes/pve1/qemu/100/status/stop', 501],
    ]);
  });

  it('records every request with the raw path, the query and the headers', async () => {
    const before = fake.requests.length;
    await call(fake, '/nodes/pve%31/storage?content=iso');
    await call(fake, '/version', { auth: null });
    const [first, second] = fake.requests.slice(before);
    expect(first).toMatchObject({ method: 'GET', path: '/api2/json/nodes/pve%31/storage', query: { content: 'iso' }, status: 200 });
    expect(first?.headers['authorization']).toBe(`PVEAPIToken=${fake.tokenId}=${fake.tokenSecret}`);
    expect(second).toMatchObject({ path: '/api2/json/version', status: 401 });
  });

  it('leaves live metrics out for stopped guests and keeps tags as one string', async () => {
    const vms = (await data(fake, '/nodes/pve1/qemu')) as Row[];
    const stopped = vms.find((v) => v['vmid'] === 101);
    expect(stopped?.['status']).toBe('stopped');
    for (const key of ['cpu', 'mem', 'uptime', 'pid', 'netin']) expect(stopped).not.toHaveProperty(key);
    const running = vms.find((v) => v['vmid'] === 100);
    expect(running).toMatchObject({ status: 'running', tags: 'prod;web' });
    expect(running).toHaveProperty('pid');
    expect(vms.find((v) => v['vmid'] === 103)?.['template']).toBe(1);
    expect(running).not.toHaveProperty('template');
    const status = (await data(fake, '/nodes/pve1/qemu/101/status/current')) as Row;
    expect(status).toMatchObject({ status: 'stopped', qmpstatus: 'stopped' });
    expect(status).not.toHaveProperty('uptime');
  });

  it('masks cloud-init passwords in VM config as Proxmox does and sends memory as a string', async () => {
    const config = (await data(fake, '/nodes/pve2/qemu/107/config')) as Row;
    expect(config['cipassword']).toBe('**********');
    expect(config['description']).toMatch(/password=/);
    expect(typeof config['memory']).toBe('string');
    const bidi = (await data(fake, '/nodes/pve2/qemu/105/config')) as Row;
    expect(bidi['name']).toMatch(/\u202E/);
  });

  it('serves the other catalogue endpoints', async () => {
    const log = (await data(fake, '/cluster/log?max=3')) as Row[];
    expect(log).toHaveLength(3);
    const tasks = (await data(fake, '/nodes/pve1/tasks')) as Row[];
    const upid = String(tasks[0]?.['upid']);
    const taskLog = JSON.parse((await call(fake, `/nodes/pve1/tasks/${encodeURIComponent(upid)}/log?start=1&limit=1`)).body) as { data: Row[]; total: number };
    expect(taskLog.data).toEqual([expect.objectContaining({ n: 2 })]);
    expect(taskLog.total).toBeGreaterThan(1);
    const status = (await data(fake, `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)) as Row;
    expect(status).toMatchObject({ upid, status: 'stopped' });
    const rrd = (await data(fake, '/nodes/pve1/qemu/100/rrddata?timeframe=hour&cf=AVERAGE')) as Row[];
    expect(rrd.length).toBe(70);
    const backups = (await data(fake, '/nodes/pve1/storage/nfs-backup/content?content=backup&vmid=100')) as Row[];
    expect(backups.map((b) => b['vmid'])).toEqual([100]);
    const smart = (await data(fake, '/nodes/pve1/disks/smart?disk=/dev/sda')) as Row;
    expect(smart['health']).toBe('PASSED');
    const ha = (await data(fake, '/cluster/ha/resources')) as Row[];
    expect(ha.map((r) => r['sid'])).toContain('vm:100');
    const index = (await data(fake, '/cluster')) as Row[];
    expect(index).toContainEqual({ subdir: 'resources' });
    const certs = (await data(fake, '/nodes/pve1/certificates/info')) as Row[];
    expect(certs.find((c) => c['filename'] === 'pve-ssl.pem')?.['fingerprint']).toBe(fake.fingerprint);
  });
});

describe('fake Proxmox: permissions', () => {
  let fake: FakeProxmox;
  const limited = makeToken('ops@pve!limited', { '/vms/100': { 'VM.Audit': 1, 'VM.PowerMgmt': 1 } });
  beforeAll(async () => {
    fake = await startFakeProxmox({ tokens: [auditorToken(), limited] });
  });
  afterAll(async () => {
    await fake.close();
  });
  const as = (token: typeof limited): CallOptions => ({ auth: `PVEAPIToken=${token.id}=${token.secret}` });

  it('returns the token privileges from /access/permissions', async () => {
    expect(await data(fake, '/access/permissions')).toEqual({ '/': expect.objectContaining({ 'Sys.Audit': 1, 'VM.Audit': 1 }) as unknown });
    expect(await data(fake, '/access/permissions', as(limited))).toEqual(limited.privileges);
  });

  it('answers 403 with the path and privilege', async () => {
    const answer = await call(fake, '/cluster/status', as(limited));
    expect([answer.status, answer.reason]).toEqual([403, 'Permission check failed (/, Sys.Audit)']);
    expect(JSON.parse(answer.body)).toEqual({ data: null, message: 'Permission check failed (/, Sys.Audit)\n' });
    const vm = await call(fake, '/nodes/pve1/qemu/101/config', as(limited));
    expect(vm.reason).toBe('Permission check failed (/vms/101, VM.Audit)');
    expect((await call(fake, '/nodes/pve1/qemu/100/config', as(limited))).status).toBe(200);
  });

  it('silently leaves out what the token may not see', async () => {
    const vms = (await data(fake, '/cluster/resources?type=vm', as(limited))) as Row[];
    expect(vms.map((v) => v['vmid'])).toEqual([100]);
    const nodes = (await data(fake, '/nodes', as(limited))) as Row[];
    expect(nodes).toHaveLength(3);
    expect(nodes[0]).not.toHaveProperty('cpu');
    expect(await data(fake, '/storage', as(limited))).toEqual([]);
  });
});

describe('fake Proxmox: old release', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox({ cluster: makeCluster({ oldRelease: true }) });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('sends vmids and some numbers as strings, template as "" and loadavg as strings', async () => {
    const vms = (await data(fake, '/nodes/pve1/qemu')) as Row[];
    const vm = vms.find((v) => v['vmid'] === '100');
    expect(vm).toMatchObject({ vmid: '100', template: '', cpus: expect.any(String) as unknown, maxdisk: expect.any(String) as unknown });
    const resources = (await data(fake, '/cluster/resources?type=vm')) as Row[];
    expect(resources.find((r) => r['vmid'] === '103')?.['template']).toBe(1);
    expect(resources.find((r) => r['vmid'] === '100')?.['template']).toBe('');
    const status = (await data(fake, '/nodes/pve1/status')) as { loadavg: unknown[] };
    expect(status.loadavg.every((x) => typeof x === 'string')).toBe(true);
    expect(status).not.toHaveProperty('boot-info');
    const version = (await data(fake, '/version')) as Row;
    expect(version['release']).toBe('7.4');
  });

  it('sends error bodies without message', async () => {
    const answer = await call(fake, '/nodes/pve1/qemu/999/config');
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({ data: null });
  });
});

describe('fake Proxmox: faults', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('hangs until the client gives up', async () => {
    fake.setFault('/nodes', { kind: 'hang' });
    await expect(call(fake, '/nodes', { timeoutMs: 200 })).rejects.toThrow('client timeout');
    expect(fake.requests.at(-1)).toMatchObject({ path: '/api2/json/nodes', status: 0 });
    fake.setFault('/nodes', null);
    expect((await call(fake, '/nodes')).status).toBe(200);
  });

  it('closes the connection in the middle of the body', async () => {
    fake.setFault(/\/cluster\/resources$/, { kind: 'close-mid-body' });
    await expect(call(fake, '/cluster/resources')).rejects.toThrow();
    fake.clearFaults();
  });

  it('sends invalid JSON with status 200', async () => {
    fake.setFault('/version', { kind: 'invalid-json' });
    const answer = await call(fake, '/version');
    expect(answer.status).toBe(200);
    expect(() => JSON.parse(answer.body) as unknown).toThrow();
    fake.clearFaults();
  });

  it('streams a huge body', async () => {
    fake.setFault('/nodes', { kind: 'huge-body', bytes: 3_000_000 });
    const answer = await call(fake, '/nodes');
    expect(answer.body.length).toBeGreaterThanOrEqual(3_000_000);
    expect((JSON.parse(answer.body) as { data: unknown[] }).data.length).toBeGreaterThan(1000);
    fake.clearFaults();
  });

  it('answers with a chosen status, reason and body', async () => {
    fake.setFault(/^\/nodes\/pve1\//, { kind: 'status', status: 500, reason: 'got timeout' });
    const answer = await call(fake, '/nodes/pve1/status');
    expect([answer.status, answer.reason]).toEqual([500, 'got timeout']);
    expect(JSON.parse(answer.body)).toEqual({ data: null, message: 'got timeout\n' });
    fake.setFault(/^\/nodes\/pve1\//, { kind: 'status', status: 401 });
    expect((await call(fake, '/nodes/pve1/status')).body).toBe('');
    fake.clearFaults();
  });
});

describe('fake Proxmox: TLS and spec', () => {
  it('presents a certificate signed by the CA it hands out, with the advertised fingerprint', async () => {
    const fake = await startFakeProxmox();
    try {
      const cert = await new Promise<X509Certificate>((resolve, reject) => {
        const socket = connect({ host: fake.host, port: fake.port, ca: fake.caPem, servername: 'localhost' }, () => {
          resolve(new X509Certificate(socket.getPeerX509Certificate()?.raw ?? Buffer.alloc(0)));
          socket.end();
        });
        socket.on('error', reject);
      });
      expect(cert.fingerprint256).toBe(fake.fingerprint);
      expect(cert.verify(new X509Certificate(fake.caPem).publicKey)).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it('can serve a certificate the CA did not sign', async () => {
    const fake = await startFakeProxmox({ tls: { wrongCertificate: true } });
    try {
      await expect(call(fake, '/version')).rejects.toThrow(/signature|certificate/i);
    } finally {
      await fake.close();
    }
  });

  it('takes paths and parameters from the spec it is given, and serves apidoc.js without auth', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-spec-'));
    const specPath = join(dir, 'spec.json');
    const apidocPath = join(dir, 'apidoc.js');
    await writeFile(apidocPath, 'const apiSchema = [];\n');
    await writeFile(
      specPath,
      JSON.stringify({
        openapi: '3.1.0',
        paths: {
          '/nodes': { get: { parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', maximum: 5 } }] } },
        },
      }),
    );
    const fake = await startFakeProxmox({ specPath, apidocPath });
    try {
      expect((await call(fake, '/nodes?limit=3')).status).toBe(200);
      const tooBig = JSON.parse((await call(fake, '/nodes?limit=9')).body) as { errors: Row };
      expect(tooBig.errors['limit']).toBe('value must have a maximum value of 5\n');
      expect((await call(fake, '/version')).status).toBe(501);
      const doc = await call(fake, '/pve-docs/api-viewer/apidoc.js', { auth: null });
      expect([doc.status, doc.body]).toEqual([200, 'const apiSchema = [];\n']);
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fake Proxmox: big cluster', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox({ cluster: makeBigCluster() });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('serves 5,000 guests over 50 nodes, one offline', async () => {
    const vms = (await data(fake, '/cluster/resources?type=vm')) as Row[];
    expect(vms).toHaveLength(5000);
    expect(new Set(vms.map((v) => v['vmid'])).size).toBe(5000);
    expect(vms.some((v) => v['type'] === 'lxc')).toBe(true);
    const nodes = (await data(fake, '/nodes')) as Row[];
    expect(nodes).toHaveLength(50);
    expect(nodes.filter((n) => n['status'] === 'offline')).toHaveLength(1);
    const onNode = (await data(fake, '/nodes/pve7/qemu')) as Row[];
    const lxcOnNode = (await data(fake, '/nodes/pve7/lxc')) as Row[];
    expect(onNode.length + lxcOnNode.length).toBe(100);
  });
});
