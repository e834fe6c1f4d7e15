// The baseline: the same upstream GET with no MCP in between, over one keep-alive TLS connection.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

export interface DirectClient {
  get(path: string): Promise<{ status: number; bytes: number }>;
  close(): void;
}

export function directClient(options: { host: string; port: number; caFile: string; tokenId: string; tokenSecret: string }): DirectClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(options.caFile) });
  const authorization = `PVEAPIToken=${options.tokenId}=${options.tokenSecret}`;
  return {
    get(path) {
      return new Promise((resolve, reject) => {
        const req = request({ host: options.host, port: options.port, path: `/api2/json${path}`, agent, headers: { authorization } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            // A client would parse the answer, so the baseline does too.
            JSON.parse(body.toString('utf8'));
            resolve({ status: res.statusCode ?? 0, bytes: body.length });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    },
    close() {
      agent.destroy();
    },
  };
}
