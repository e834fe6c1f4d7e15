// What the server must know about one Proxmox API (Proxmox VE, Proxmox Backup Server, ...). The
// runtime, the client, configuration, doctor and spec:pull read these facts from a description, so a
// second product is a second description, a schema pin and a manifest: never an edit of the runtime.

/** A GET that must never become a tool, and why (printed when a manifest names it). */
export interface DeniedPath {
  pattern: RegExp;
  reason: string;
}

/** What Proxmox's own words (status, message) mean for the model, product by product. */
export interface FailureHint {
  /** Matches when the answer has this status (any status when absent). */
  status?: number;
  /** Matches when Proxmox's message matches (any message when absent). */
  message?: RegExp;
  /** The sentence for the model. `words` is Proxmox's message, already sanitised and redacted. */
  describe(context: FailureContext): string;
}

export interface FailureContext {
  /** Proxmox's message, sanitised and redacted. */
  words: string;
  /** The `node` argument of the call, when it has one. */
  node?: string | undefined;
  /** The path template the tool reads. */
  path: string;
}

export interface ApiAuth {
  /** The token scheme in the Authorization header: `PVEAPIToken`, `PBSAPIToken`. */
  scheme: string;
  /** Between the token ID and the secret: `=` (Proxmox VE) or `:` (Proxmox Backup Server). */
  secretSeparator: string;
  /** The session cookie a ticket travels in; redacted wherever it shows up, like the token header. */
  cookie: string;
}

export interface ApiDescription {
  /** Short name, lower case: `pve`. */
  id: string;
  /** The PROXMOX_SERVICE value that selects it (compared without case): `PVE`. */
  service: string;
  /** For people: `Proxmox VE`. */
  product: string;
  /** The pinned OpenAPI document and its lock, relative to the package folder. */
  specFile: string;
  lockFile: string;
  /** The tool manifest written for this API (compiled into the server by `npm run generate`). */
  manifestFile: string;
  /** The release the pin was made from (from the lock). */
  pinnedRelease: string;
  defaultPort: number;
  /** Path of the JSON API below the origin. */
  basePath: string;
  /** Where a host serves the API viewer's schema file (spec:pull --from HOST). */
  apidocPath: string;
  auth: ApiAuth;
  tokenId: {
    /** A whole token ID: USER@REALM!TOKENNAME. */
    pattern: RegExp;
    example: string;
  };
  /**
   * The API's own version and the caller's own privileges (read by doctor and the token check). The
   * paths are the same in every Proxmox API; typed as they are, their calls are checked by the
   * generated bindings.
   */
  versionPath: '/version';
  permissionsPath: '/access/permissions';
  /** Privileges that only let the holder read. */
  readOnlyPrivilege: RegExp;
  /** What to grant a token that should only read, in words: `the PVEAuditor role on /`. */
  readOnlyGrant: string;
  /** How an error answer carries Proxmox's message: JSON `{message, errors}` or the plain-text body. */
  errorBody: 'json' | 'text';
  /** GETs that must never become tools. */
  deniedPaths: readonly DeniedPath[];
  /** Field names that hold a secret in this API's answers (beyond the generic password/secret/key names). */
  secretFields: RegExp;
  /** The ACL tree by privilege family (`VM` -> `/vms`): where the rows of a filtered list live. */
  rowSpaces: Readonly<Record<string, string>>;
  /** Where a host says its cluster's quorum and nodes (get_clusters); absent for a product without clusters. */
  clusterStatusPath?: string;
  /** The MCP server's instructions for the model; Proxmox VE's own when absent. */
  instructions?: string;
  /** Checked in order before the generic explanations of a failure. */
  failureHints: readonly FailureHint[];
}
