// Proxmox Backup Server GET endpoints that must never become tools: a GET-only rule is necessary but
// not enough. Several GETs stream backup contents, upgrade the connection to a backup or restore
// protocol, open a terminal, answer with keys or secrets, reach out to other hosts, or (one of them)
// change state. Each entry says why; the manifest check prints it when tools-pbs.yaml names such a path.
import type { DeniedPath } from './types.js';

const P = '[^/]+';

export const PBS_DENIED_PATHS: readonly DeniedPath[] = [
  { pattern: new RegExp(`^/admin/datastore/${P}/(download|download-decoded|pxar-file-download)$`), reason: 'downloads backup archives or files out of them' },
  { pattern: new RegExp(`^/admin/datastore/${P}/(catalog|files)$`), reason: 'lists the files inside a backup (catalog, file list)' },
  { pattern: /^\/(backup|reader)(\/|$)/, reason: 'upgrades the connection to the backup or restore protocol' },
  { pattern: /websocket$|\/(termproxy|vncproxy)$/, reason: 'opens a terminal on the server' },
  { pattern: /^\/config\/(encryption-keys|tape-encryption-keys)(\/|$)/, reason: 'answers with encryption keys' },
  { pattern: new RegExp(`^/access/users/${P}/token(/|$)`), reason: 'answers with API token details' },
  { pattern: /^\/(access|config\/access)\/tfa(\/|$)/, reason: 'answers with second-factor (TFA) entries' },
  { pattern: /^\/access\/(ticket|openid)(\/|$)/, reason: 'authentication endpoint' },
  { pattern: /^\/config\/notifications\/endpoints(\/|$)/, reason: 'answers with notification secrets (tokens, passwords, headers)' },
  { pattern: /^\/config\/access\/(ad|ldap|openid)\/[^/]+$/, reason: 'answers with realm settings (bind and client credentials)' },
  { pattern: /^\/config\/acme\/(account|plugins)(\/|$)/, reason: 'answers with ACME account or DNS provider credentials' },
  { pattern: /^\/config\/acme\/(directories|tos|challenge-schema)$/, reason: 'connects to an outside ACME server' },
  { pattern: new RegExp(`^/config/remote/${P}/scan(/|$)`), reason: 'logs in to another backup server with the stored credentials' },
  { pattern: new RegExp(`^/(config/s3/${P}/list-buckets|admin/s3/${P})$`), reason: 'connects to an S3 endpoint with the stored credentials' },
  { pattern: /^\/tape\/media\/destroy$/, reason: 'destroys tape media (a GET that changes state)' },
  { pattern: new RegExp(`^/tape/drive/${P}/(inventory|read-label)$`), reason: 'operates the tape drive (loads and reads tapes)' },
  { pattern: new RegExp(`^/nodes/${P}/subscription$`), reason: 'answers with the subscription key and server ID' },
  { pattern: new RegExp(`^/nodes/${P}/apt/changelog$`), reason: 'makes the server fetch from an outside repository' },
  { pattern: new RegExp(`^/nodes/${P}/report$`), reason: 'builds a full system report (heavy, broad)' },
];

export function pbsDeniedReason(path: string): string | undefined {
  return PBS_DENIED_PATHS.find((d) => d.pattern.test(path))?.reason;
}
