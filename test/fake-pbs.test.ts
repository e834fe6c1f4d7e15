// The fake Proxmox Backup Server answers as BEHAVIOUR.md describes a real one: envelopes, errors as
// plain text under a JSON content type, requests checked against the PBS pin, privilege-filtered lists.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASTORE_AUDIT, pbsToken, startFakePbs, type FakePbs } from './fake-pbs/index.js';

interface Answer {
  status: number;
  type: string;
  body: string;
}

function get(fake: FakePbs, path: string, authorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    const req = request(`${fake.url}${path}`, { ca: fake.caPem, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the fake Proxmox Backup Server', () => {
  let fake: FakePbs;
  const datastoreOnly = pbsToken('ds@pbs!one', { '/datastore/store1': { ...DATASTORE_AUDIT } });
  const auth = (): string => `PBSAPIToken=${fake.tokenId}:${fake.tokenSecret}`;
  beforeAll(async () => {
    fake = await startFakePbs({ tokens: [pbsToken(), datastoreOnly] });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('answers a PBSAPIToken (colon before the secret) with a data envelope', async () => {
    const r = await get(fake, '/api2/json/version', auth());
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ data: { version: '4.0.14', release: '4.0', repoid: 'c1d5e2f3' } });
    const tasks = JSON.parse((await get(fake, '/api2/json/nodes/localhost/tasks?limit=1', auth())).body) as { data: unknown[]; total: number };
    expect(tasks.data).toHaveLength(1);
    expect(tasks.total).toBe(5);
  });

  it('sends errors as plain text under a JSON content type', async () => {
    const wrong = await get(fake, '/api2/json/version', `PBSAPIToken=${fake.tokenId}:nope`);
    expect(wrong).toMatchObject({ status: 401, type: 'application/json;charset=UTF-8' });
    expect(() => JSON.parse(wrong.body) as unknown).toThrow();
    expect(wrong.body).toMatch(/^authentication failed/);
    // Proxmox VE's form of the header is not accepted.
    expect((await get(fake, '/api2/json/version', `PVEAPIToken=${fake.tokenId}=${fake.tokenSecret}`)).status).toBe(401);
    const param = await get(fake, '/api2/json/admin/datastore/store1/snapshots?bogus=1', auth());
    expect(param.status).toBe(400);
    expect(param.body).toBe("parameter verification errors\n\nparameter 'bogus': property is not defined in schema and the schema does not allow additional properties\n");
    const pattern = await get(fake, '/api2/json/admin/datastore/-xyz/status', auth());
    expect(pattern.body).toMatch(/parameter 'store': value does not match the regex pattern/);
    expect((await get(fake, '/api2/json/admin/datastore/nosuch/status', auth())).body).toBe("no such datastore 'nosuch'");
    expect((await get(fake, '/api2/json/no/such/path', auth())).status).toBe(404);
  });

  it('leaves out of lists what a token may not see, and refuses the rest with 403', async () => {
    const own = `PBSAPIToken=${datastoreOnly.id}:${datastoreOnly.secret}`;
    const usage = JSON.parse((await get(fake, '/api2/json/status/datastore-usage', own)).body) as { data: { store: string }[] };
    expect(usage.data.map((d) => d.store)).toEqual(['store1']);
    const other = await get(fake, '/api2/json/admin/datastore/offsite/groups', own);
    expect(other).toMatchObject({ status: 403, body: 'permission check failed' });
    expect((await get(fake, '/api2/json/admin/datastore/store1/groups', own)).status).toBe(200);
    expect((await get(fake, '/api2/json/nodes/localhost/status', own)).status).toBe(403);
  });

  it('records every request', () => {
    expect(fake.requests.length).toBeGreaterThan(8);
    expect(fake.requests.every((r) => r.method === 'GET' && r.status > 0)).toBe(true);
  });
});
