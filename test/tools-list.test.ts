// The whole tool surface, as a host sees it, is committed: any change to a name, description,
// schema or annotation shows up in review. Update deliberately with `npx vitest run -u`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeToken, PVE_AUDITOR, startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { connect, fakeEnv, type Connected } from './support/mcp.js';

let fake: FakeProxmox;
let mcp: Connected;

beforeAll(async () => {
  // A token that can use every tool, so that every tool is listed (tools a token cannot use are not).
  fake = await startFakeProxmox({ tokens: [makeToken('root@pam!mcp', { '/': { ...PVE_AUDITOR, 'Sys.Modify': 1, 'Sys.Syslog': 1 } })] });
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
