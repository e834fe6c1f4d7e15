#!/usr/bin/env node
// The floor: the least an MCP server over stdio can do for a Proxmox read. Newline-delimited
// JSON-RPC by hand, one tool, every call one keep-alive HTTPS GET whose body goes back as text.
// No validation, shaping, limits or redaction: what our server costs beyond this is its overhead.
// Reads the same PROXMOX_* variables as the server. Benchmark use only, on loopback.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import process from 'node:process';

/** @typedef {{ id?: number | string | null, method?: string, params?: { protocolVersion?: unknown, arguments?: { path?: unknown } } }} Message */

const SUPPORTED = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

const env = process.env;
const host = env.PROXMOX_HOST ?? '127.0.0.1';
const port = Number(env.PROXMOX_PORT ?? '8006');
const auth = `PVEAPIToken=${env.PROXMOX_TOKEN_ID ?? ''}=${env.PROXMOX_TOKEN_SECRET ?? ''}`;
const verify = (env.PROXMOX_VERIFY_SSL ?? 'true') !== 'false';
const ca = env.PROXMOX_SSL_CERT ? readFileSync(env.PROXMOX_SSL_CERT) : undefined;
// Our server caps its upstream pool at PROXMOX_MAX_CONCURRENCY (8 by default); so does the floor,
// so concurrency figures compare like with like.
const maxSockets = Number(env.PROXMOX_MAX_CONCURRENCY ?? '8');
const agent = new Agent({ keepAlive: true, maxSockets, ca, rejectUnauthorized: verify });

const TOOL = {
  name: 'get',
  description: 'GET a Proxmox API path (default /nodes) and return its JSON.',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
};

/** @param {object} message */
function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * @param {string} path
 * @returns {Promise<{ isError: boolean, text: string }>}
 */
function get(path) {
  return new Promise((resolve) => {
    const req = request(
      { host, port, path: `/api2/json${path}`, method: 'GET', agent, headers: { authorization: auth } },
      (res) => {
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (/** @type {Buffer} */ chunk) => {
          chunks.push(chunk);
        });
        res.on('end', () => {
          const ok = res.statusCode === 200;
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ isError: !ok, text: ok ? body : `HTTP ${String(res.statusCode)} ${String(res.statusMessage)} ${body}` });
        });
        res.on('error', (error) => {
          resolve({ isError: true, text: error.message });
        });
      },
    );
    req.on('error', (error) => {
      resolve({ isError: true, text: error.message });
    });
    req.end();
  });
}

/** @param {Message} message */
async function handle(message) {
  const { id, method, params } = message;
  if (id === undefined || id === null) return; // a notification
  switch (method) {
    case 'initialize': {
      const asked = params?.protocolVersion;
      send({
        jsonrpc: '2.0',
        id,
        result: {
          protocolVersion: typeof asked === 'string' && SUPPORTED.includes(asked) ? asked : SUPPORTED[0],
          capabilities: { tools: {} },
          serverInfo: { name: 'floor', version: '0.0.0' },
        },
      });
      return;
    }
    case 'ping':
      send({ jsonrpc: '2.0', id, result: {} });
      return;
    case 'tools/list':
      send({ jsonrpc: '2.0', id, result: { tools: [TOOL] } });
      return;
    case 'tools/call': {
      const path = params?.arguments?.path;
      const { isError, text } = await get(typeof path === 'string' && path.startsWith('/') ? path : '/nodes');
      send({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }], isError } });
      return;
    }
    default:
      send({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${String(method)}` } });
  }
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (/** @type {string} */ chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\n')) !== -1) {
    const line = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    if (line === '') continue;
    /** @type {unknown} */
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      continue;
    }
    if (typeof message === 'object' && message !== null) void handle(/** @type {Message} */ (message));
  }
});
process.stdin.on('end', () => {
  agent.destroy();
  process.exit(0);
});
