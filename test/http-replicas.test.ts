// Two `proxmox-mcp http` processes behind a round-robin proxy, as behind any load balancer: walking
// a 5,000-guest cluster page by page neither skips nor repeats a guest silently. A page cut from a
// listing its process read afresh (its first page was answered by the other one) says so.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeBigCluster, startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { fakeEnv } from './support/mcp.js';
import { callBody, JSON_HEADERS, message, raw, startHttp, type HttpServer } from './support/http.js';

let fake: FakeProxmox;
let replicas: HttpServer[];
let proxy: Server;
let proxyUrl: string;
const servedBy: number[] = [];

beforeAll(async () => {
  fake = await startFakeProxmox({ cluster: makeBigCluster() });
  replicas = await Promise.all([0, 1].map(() => startHttp(fakeEnv(fake))));
  let next = 0;
  proxy = createServer((req, res) => {
    const target = new URL(replicas[next]?.url ?? '');
    servedBy.push(next);
    next = (next + 1) % replicas.length;
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${String((proxy.address() as AddressInfo).port)}/mcp`;
});

afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  await Promise.all(replicas.map((r) => r.stop()));
  await fake.close();
});

interface Page {
  items: { vmid: number }[];
  total: number;
  offset: number;
  next_offset?: number;
  listing_reread?: string;
}

it('walks 5,000 guests through two replicas: every guest once, and a page read afresh says so', async () => {
  const seen = new Set<number>();
  const pages: Page[] = [];
  let offset: number | undefined = 0;
  while (offset !== undefined) {
    const res = await raw(proxyUrl, { headers: JSON_HEADERS, body: callBody('get_vms', { offset, limit: 500 }, pages.length + 1) });
    expect(res.status).toBe(200);
    const page = message(res.body).result?.structuredContent as Page;
    pages.push(page);
    for (const item of page.items) {
      expect(seen.has(item.vmid)).toBe(false);
      seen.add(item.vmid);
    }
    offset = page.next_offset;
  }
  const total = pages[0]?.total ?? 0;
  expect(total).toBeGreaterThan(4500);
  expect(seen.size).toBe(total);
  expect(pages.every((p) => p.total === total)).toBe(true);
  // Both replicas answered pages; the first page of each listing read is its own.
  expect(new Set(servedBy)).toEqual(new Set([0, 1]));
  expect(pages[0]?.listing_reread).toBeUndefined();
  // Page 2 went to the other replica, which had no listing for it and read it again: it says so,
  // and so do the later pages cut from that listing; page 3 came from the first replica's listing.
  expect(pages[1]?.listing_reread).toMatch(/read again/);
  expect(pages[2]?.listing_reread).toBeUndefined();
  expect(pages[3]?.listing_reread).toMatch(/read again/);
  // Each replica asked Proxmox for the list once: later pages were cut from the listing it kept.
  expect(fake.requests.filter((r) => r.path.endsWith('/cluster/resources')).length).toBe(2);
});
