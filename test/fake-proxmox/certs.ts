// A CA and a server certificate made for the run, so clients can verify TLS for real instead of
// switching verification off.
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface FakeCertificates {
  /** The CA handed to clients. */
  caPem: string;
  /** The certificate the server presents, and its key. */
  certPem: string;
  keyPem: string;
  /** SHA-256 of the server certificate, `AB:CD:...`. */
  fingerprint: string;
}

async function makeCa(name: string): Promise<{ cert: string; key: string }> {
  const ca = await generate([{ name: 'commonName', value: name }, { name: 'organizationName', value: 'PVE Cluster Manager CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

async function makeCertificates(wrongCertificate: boolean): Promise<FakeCertificates> {
  const handedOut = await makeCa('Fake Proxmox Virtual Environment CA');
  // The "wrong" case signs the server certificate with a CA the client never sees.
  const signer = wrongCertificate ? await makeCa('Fake Proxmox Virtual Environment CA') : handedOut;
  const leaf = await generate([{ name: 'commonName', value: 'pve1.lab.example' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86_400_000),
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: 'pve1' },
          { type: 2, value: 'pve1.lab.example' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return {
    caPem: handedOut.cert,
    certPem: leaf.cert,
    keyPem: leaf.private,
    fingerprint: new X509Certificate(leaf.cert).fingerprint256,
  };
}

// Key generation is the slowest part of start-up; a test file that starts many fakes shares them.
const cache = new Map<boolean, Promise<FakeCertificates>>();

export function getCertificates(wrongCertificate = false): Promise<FakeCertificates> {
  let certs = cache.get(wrongCertificate);
  if (certs === undefined) {
    certs = makeCertificates(wrongCertificate);
    cache.set(wrongCertificate, certs);
  }
  return certs;
}
