// The HTTPS side both fakes share (Proxmox VE and Backup Server): a loopback listener on a free port
// with the fake certificate, a count of TLS connections, the CA written to a file for the server
// under test, and a close that drops every connection and removes that file.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeCertificates } from './certs.js';

export interface TlsListener {
  port: number;
  caFile: string;
  /** TLS connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function listenTls(
  certs: FakeCertificates,
  names: { label: string; caFile: string },
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<TlsListener> {
  let connections = 0;
  const server = createServer({ key: certs.keyPem, cert: certs.certPem, keepAliveTimeout: 10_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(`${names.label}: request failed`, error);
      res.destroy();
    });
  });
  server.on('secureConnection', () => {
    connections++;
  });
  // A client that drops the connection mid-handshake is part of the tests, not an error.
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const dir = await mkdtemp(join(tmpdir(), `${names.label.toLowerCase().replace(/\W+/g, '-')}-`));
  const caFile = join(dir, names.caFile);
  await writeFile(caFile, certs.caPem);
  return {
    port,
    caFile,
    get connections() {
      return connections;
    },
    async close() {
      const done = new Promise<void>((resolve) => server.close(() => { resolve(); }));
      server.closeAllConnections();
      await done;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
