// Proxmox VE GET endpoints that must never become tools: a GET-only rule is necessary but not
// enough. Each entry says why, and the manifest check prints that reason when `tools.yaml` names such a path.
import type { DeniedPath } from './types.js';

const P = '[^/]+';

export const PVE_DENIED_PATHS: readonly DeniedPath[] = [
  { pattern: /websocket$/, reason: 'opens a console or migration tunnel (websocket)' },
  { pattern: /\/(vncproxy|spiceproxy|termproxy|mtunnel)$/, reason: 'opens a console or tunnel' },
  { pattern: new RegExp(`^/nodes/${P}/qemu/${P}/agent/(file-read|exec-status|exec)$`), reason: 'reads files or command output inside the guest' },
  { pattern: new RegExp(`^/nodes/${P}/storage/${P}/file-restore/`), reason: 'reads backup contents and may start a restore VM' },
  { pattern: new RegExp(`^/nodes/${P}/vzdump/extractconfig$`), reason: 'extracts configuration out of a backup archive' },
  { pattern: new RegExp(`^/nodes/${P}/qemu/${P}/cloudinit/dump$`), reason: 'answers with password hashes and keys (cloud-init dump)' },
  { pattern: /^\/cluster\/acme\/plugins(\/|$)/, reason: 'answers with DNS provider credentials' },
  { pattern: /^\/cluster\/acme\/(meta|tos|directories|challenge-schema)$/, reason: 'connects to an outside ACME server' },
  { pattern: /^\/access\/domains\/[^/]+$/, reason: 'answers with realm secrets (OpenID client secret, LDAP bind password)' },
  { pattern: new RegExp(`^/nodes/${P}/subscription$`), reason: 'answers with the subscription key and server ID (enterprise repository login)' },
  { pattern: /^\/cluster\/notifications\/endpoints(\/|$)/, reason: 'answers with notification secrets and headers' },
  { pattern: new RegExp(`^/nodes/${P}/scan(/|$)`), reason: 'makes the node connect to a host the caller chooses (and may take a password)' },
  { pattern: new RegExp(`^/nodes/${P}/(query-url-metadata|query-oci-repo-tags)$`), reason: 'makes the node fetch a URL the caller chooses' },
  { pattern: new RegExp(`^/nodes/${P}/apt/changelog$`), reason: 'makes the node fetch from an outside repository' },
  { pattern: /^\/cluster\/metrics\/export$/, reason: 'exports every metric of the cluster at once (heavy)' },
  { pattern: new RegExp(`^/nodes/${P}/report$`), reason: 'builds a full system report (heavy, broad)' },
  { pattern: /^\/access\/(ticket|openid|tfa|vncticket)(\/|$)/, reason: 'authentication endpoint' },
];

