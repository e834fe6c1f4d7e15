// Spawns the built server over stdio, as a host does, with the SDK's own client.
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { FakeProxmox } from '../fake-proxmox/index.js';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

/** How many tools the built-in manifest offers: tests read it rather than hard-code it, since tools are added in tools.yaml. */
export const TOOL_COUNT = (JSON.parse(readFileSync(new URL('../../src/generated/manifest.json', import.meta.url), 'utf8')) as { tools: unknown[] }).tools.length;

export function fakeEnv(fake: FakeProxmox, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    PROXMOX_HOST: '127.0.0.1',
    PROXMOX_PORT: String(fake.port),
    PROXMOX_TOKEN_ID: fake.tokenId,
    PROXMOX_TOKEN_SECRET: fake.tokenSecret,
    PROXMOX_SSL_CERT: fake.caFile,
    PROXMOX_VERIFY_SSL: 'true',
    ...extra,
  };
}

export interface Connected {
  client: Client;
  stderr: () => string;
  close: () => Promise<void>;
}

export async function connect(env: Record<string, string>): Promise<Connected> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: 'pipe' });
  let err = '';
  const stream = transport.stderr as PassThrough | null;
  stream?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => err,
    close: async () => {
      await client.close();
    },
  };
}

export interface CallOutcome {
  isError: boolean;
  text: string;
  structured: Record<string, unknown> | undefined;
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallOutcome> {
  const res = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content: { type: string; text?: string }[];
    structuredContent?: Record<string, unknown>;
  };
  return {
    isError: res.isError === true,
    text: res.content.map((c) => c.text ?? '').join('\n'),
    structured: res.structuredContent,
  };
}
