// A host that accepts TCP but never completes the TLS handshake (an overloaded pveproxy does this):
// every call still ends within PROXMOX_CALL_TIMEOUT_MS, however many wait for a connection, and the
// server goes on answering.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_COUNT, call, connect, type Connected } from './support/mcp.js';

const CALL_TIMEOUT_MS = 1500;
// Generous: a loaded machine is slow, but the broken behaviour takes PROXMOX_TIMEOUT_MS (15 s) per wave of 8.
const MARGIN_MS = 6000;

let silent: Server;
const sockets = new Set<Socket>();
let mcp: Connected;

beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  mcp = await connect({
    PATH: process.env.PATH ?? '',
    PROXMOX_HOST: '127.0.0.1',
    PROXMOX_PORT: String((silent.address() as AddressInfo).port),
    PROXMOX_TOKEN_ID: 'monitor@pve!mcp',
    PROXMOX_TOKEN_SECRET: '12345678-1234-1234-1234-123456789abc',
    PROXMOX_VERIFY_SSL: 'false',
    PROXMOX_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
  });
});

afterAll(async () => {
  await mcp.close();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe('a host that never completes the TLS handshake', () => {
  it('40 concurrent calls each end with a clear error within the call timeout, and the server still serves', async () => {
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const r = await call(mcp.client, 'get_node_status', { node: `pve${String(i % 3)}` });
        return { ...r, ms: Date.now() - started };
      }),
    );
    for (const r of outcomes) {
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/did not answer within/);
      expect(r.ms).toBeLessThan(CALL_TIMEOUT_MS + MARGIN_MS);
    }
    // Still serving: the tool list, and a new call that again ends within its timeout.
    expect((await mcp.client.listTools()).tools.length).toBe(TOOL_COUNT);
    const again = Date.now();
    const next = await call(mcp.client, 'get_nodes');
    expect(next.isError).toBe(true);
    expect(Date.now() - again).toBeLessThan(CALL_TIMEOUT_MS + MARGIN_MS);
  }, 120_000);
});
