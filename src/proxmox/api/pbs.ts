// Proxmox Backup Server: every fact the server relies on that is particular to this API
// (reference: proxmox-backup's API schema and proxmox-rest-server's formatter).
import lock from '../../../spec/proxmox-backup.lock.json' with { type: 'json' };
import { PBS_DENIED_PATHS } from './pbs-deny-list.js';
import type { ApiDescription } from './types.js';

export const pbs: ApiDescription = {
  id: 'pbs',
  service: 'PBS',
  product: 'Proxmox Backup Server',
  specFile: 'spec/proxmox-backup.openapi.json',
  lockFile: 'spec/proxmox-backup.lock.json',
  manifestFile: 'tools-pbs.yaml',
  pinnedRelease: lock.release,
  defaultPort: 8007,
  basePath: '/api2/json',
  apidocPath: '/docs/api-viewer/apidoc.js',
  // A colon before the secret, where Proxmox VE writes `=`.
  auth: { scheme: 'PBSAPIToken', secretSeparator: ':', cookie: 'PBSAuthCookie' },
  tokenId: { pattern: /^[^\s!@=:]+@[A-Za-z0-9_][A-Za-z0-9._-]*![A-Za-z0-9_][A-Za-z0-9._-]*$/, example: 'mcp@pbs!reader' },
  versionPath: '/version',
  permissionsPath: '/access/permissions',
  rowSpaces: { Datastore: '/datastore', Sys: '/system', Remote: '/remote', Tape: '/tape' },
  // Datastore.Audit, Sys.Audit, Remote.Audit, Tape.Audit (roles Audit, DatastoreAudit, RemoteAudit).
  readOnlyPrivilege: /\.Audit$/,
  readOnlyGrant: 'the Audit role on / (or DatastoreAudit on /datastore)',
  errorBody: 'text',
  deniedPaths: PBS_DENIED_PATHS,
  // The subscription key and server ID, an S3 endpoint's secret key, a remote's password.
  secretFields: /^(serverid|secret-key|access-key|password)$/i,
  instructions:
    'Read-only access to a Proxmox Backup Server. Start with pbs_list_datastores for datastore names; the node is always localhost; list tools are paged (limit, offset, next_offset). Backups are shown by their metadata only.',
  failureHints: [
    {
      message: /no such datastore|datastore '.*' does not exist/i,
      describe: ({ words }) => `Unknown datastore: ${words}. Call pbs_list_datastores for the datastore names.`,
    },
    {
      message: /no such task|unable to open task|task .* not found/i,
      describe: ({ words }) => `Unknown task: ${words}. Call pbs_list_tasks for task IDs (UPIDs).`,
    },
    {
      message: /no such (namespace|group|snapshot)|does not exist|not found/i,
      describe: ({ words }) => `Not found: ${words}. Check the names: pbs_list_namespaces and pbs_list_groups list what a datastore holds.`,
    },
  ],
};
