// Proxmox VE: every fact the server relies on that is particular to this API.
import lock from '../../../spec/proxmox-ve.lock.json' with { type: 'json' };
import { PVE_DENIED_PATHS } from './pve-deny-list.js';
import type { ApiDescription } from './types.js';

export const pve: ApiDescription = {
  id: 'pve',
  service: 'PVE',
  product: 'Proxmox VE',
  specFile: 'spec/proxmox-ve.openapi.json',
  lockFile: 'spec/proxmox-ve.lock.json',
  manifestFile: 'tools.yaml',
  pinnedRelease: lock.pveDocsRelease,
  defaultPort: 8006,
  basePath: '/api2/json',
  apidocPath: '/pve-docs/api-viewer/apidoc.js',
  auth: { scheme: 'PVEAPIToken', secretSeparator: '=', cookie: 'PVEAuthCookie' },
  tokenId: { pattern: /^[^\s!@=:]+@[A-Za-z][A-Za-z0-9._-]*![A-Za-z][A-Za-z0-9._-]*$/, example: 'root@pam!mcp' },
  versionPath: '/version',
  permissionsPath: '/access/permissions',
  clusterStatusPath: '/cluster/status',
  rowSpaces: { VM: '/vms', Datastore: '/storage', Sys: '/nodes', Pool: '/pool', SDN: '/sdn', Mapping: '/mapping' },
  readOnlyPrivilege: /\.Audit$|^Sys\.Syslog$/,
  readOnlyGrant: 'the PVEAuditor role on /',
  errorBody: 'json',
  deniedPaths: PVE_DENIED_PATHS,
  // The subscription server ID, cloud-init passwords and a node's private SSH key.
  secretFields: /^(serverid|cipassword|sshkey_private)$/i,
  failureHints: [
    {
      // pveproxy answers 595/596 when the node the call is routed to does not answer.
      status: 595,
      describe: ({ node, words }) => `${node === undefined ? 'The node is' : `Node ${node} is`} unreachable (${words}). It is probably offline: check get_nodes or get_cluster_status; cluster-wide tools still answer.`,
    },
    {
      status: 596,
      describe: ({ node, words }) => `${node === undefined ? 'The node is' : `Node ${node} is`} unreachable (${words}). It is probably offline: check get_nodes or get_cluster_status; cluster-wide tools still answer.`,
    },
    {
      message: /hostname lookup '.*' failed|no such node|node '.*' does not exist/i,
      describe: ({ node, words }) => `Unknown node${node === undefined ? '' : ` "${node}"`}: ${words}. Call get_nodes for the node names.`,
    },
    {
      message: /does not exist|not found|no such/i,
      describe: ({ words }) => `Not found: ${words}. Check the IDs: get_vms lists every guest with its node and vmid.`,
    },
  ],
};
