// One fake Proxmox and one server process per describe block, for suites whose tests share them.
import { afterAll, beforeAll } from 'vitest';
import { startFakeProxmox, type FakeOptions, type FakeProxmox } from '../fake-proxmox/index.js';
import { connect, fakeEnv, type Connected } from './mcp.js';

export interface Suite {
  readonly fake: FakeProxmox;
  readonly mcp: Connected;
}

/**
 * For the enclosing describe block (or file): a fake Proxmox and the built server connected to it,
 * started before the first test and stopped after the last.
 */
export function serverSuite(options: FakeOptions | (() => FakeOptions) = {}, extraEnv: Record<string, string> = {}): Suite {
  let fake: FakeProxmox | undefined;
  let mcp: Connected | undefined;
  beforeAll(async () => {
    fake = await startFakeProxmox(typeof options === 'function' ? options() : options);
    mcp = await connect(fakeEnv(fake, extraEnv));
  });
  afterAll(async () => {
    await mcp?.close();
    await fake?.close();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('serverSuite: used outside a test');
    return v;
  };
  return {
    get fake() {
      return started(fake);
    },
    get mcp() {
      return started(mcp);
    },
  };
}
