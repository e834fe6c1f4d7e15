// Compiled by `tsc -p tsconfig.json`, never run: proves the bindings admit GET and nothing else.
// Each `@ts-expect-error` fails the type check if the call below it ever becomes valid.
import createClient from 'openapi-fetch';
import type { paths } from '../../src/generated/proxmox-api.js';

const client = createClient<paths>({ baseUrl: 'https://pve.invalid:8006/api2/json' });

export async function readOnlyCalls(): Promise<void> {
  await client.GET('/nodes');
  await client.GET('/nodes/{node}/qemu/{vmid}/status/current', { params: { path: { node: 'pve', vmid: 100 } } });
  // @ts-expect-error no operation in the spec is a POST
  await client.POST('/nodes/{node}/qemu/{vmid}/status/start', { params: { path: { node: 'pve', vmid: 100 } } });
  // @ts-expect-error not even on a path that has a GET
  await client.POST('/nodes', {});
  // @ts-expect-error PUT is absent everywhere
  await client.PUT('/nodes/{node}/qemu/{vmid}/config', { params: { path: { node: 'pve', vmid: 100 } } });
  // @ts-expect-error DELETE is absent everywhere
  await client.DELETE('/nodes/{node}/qemu/{vmid}', { params: { path: { node: 'pve', vmid: 100 } } });
  // @ts-expect-error PATCH is absent everywhere
  await client.PATCH('/nodes', {});
  // @ts-expect-error a path the spec does not hold
  await client.GET('/nodes/{node}/qemu/{vmid}/status/start', { params: { path: { node: 'pve', vmid: 100 } } });
}
