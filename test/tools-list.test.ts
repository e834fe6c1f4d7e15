// The whole tool surface, as a host sees it, is committed: any change to a name, description,
// schema or annotation shows up in review. Update deliberately with `npx vitest run -u`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { connect, fakeEnv, type Connected } from './support/mcp.js';

let fake: FakeProxmox;
let mcp: Connected;

beforeAll(async () => {
  fake = await startFakeProxmox();
  mcp = await connect(fakeEnv(fake));
});
afterAll(async () => {
  await mcp.close();
  await fake.close();
});

it('matches the committed tools/list snapshot', async () => {
  const { tools } = await mcp.client.listTools();
  await expect(`${JSON.stringify(tools, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/tools-list.json');
});
