// What a Proxmox endpoint asks of the caller, read from the pinned API's `x-pve-permissions`, and
// what a token's privileges (GET /access/permissions) say about it. Proxmox writes the check as a
// small expression: ["perm", path, [privileges], "any", 1], ["or", ...], ["and", ...], and a few
// user-specific forms ("userid-param", "userid-group") that only the caller's own user can satisfy.

export type PermCheck =
  | { perm: string; privs: string[]; any: boolean }
  | { or: PermCheck[] }
  | { and: PermCheck[] }
  /** A check about the calling user itself: not judged from privileges. */
  | { user: string };

/** The requirement of one tool: the endpoint's check, and for lists the privilege each row needs. */
export interface ToolPermission {
  /** Undefined when the endpoint lets every token in (`user: all`) and filters rows instead. */
  check?: PermCheck;
  /**
   * Where the endpoint lets every token in and checks inside (leaving rows out of lists): the
   * privilege it checks there, from tools.yaml.
   */
  rows?: string;
}

const PRIVILEGE = /^[A-Z][A-Za-z]*(\.[A-Za-z]+)+$/;

export function isPrivilegeName(text: string): boolean {
  return PRIVILEGE.test(text);
}

function parseCheck(raw: unknown): PermCheck | undefined {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return undefined;
  const [op, ...rest] = raw as [string, ...unknown[]];
  if (op === 'perm' && typeof rest[0] === 'string' && Array.isArray(rest[1]) && rest[1].every((p) => typeof p === 'string')) {
    const privs = rest[1];
    return { perm: rest[0], privs, any: rest[2] === 'any' && privs.length > 1 };
  }
  if (op === 'or' || op === 'and') {
    const parts = rest.map(parseCheck);
    if (parts.some((p) => p === undefined)) return undefined;
    return op === 'or' ? { or: parts as PermCheck[] } : { and: parts as PermCheck[] };
  }
  return { user: op };
}

/** The check of an operation's `x-pve-permissions`; undefined when it lets every token in or says nothing. */
export function permissionCheck(raw: unknown): PermCheck | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  return parseCheck((raw as { check?: unknown }).check);
}

/** For people: "Sys.Audit on /nodes/{node}", "VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted on /vms/{vmid}". */
export function describeCheck(check: PermCheck): string {
  if ('perm' in check) return `${check.privs.join(check.any ? ' or ' : ' and ')} on ${check.perm}`;
  if ('or' in check) return check.or.map(describeCheck).join('; or ');
  if ('and' in check) return check.and.map(describeCheck).join('; and ');
  return `the calling user (${check.user})`;
}

function privilegesIn(check: PermCheck, into = new Set<string>()): Set<string> {
  if ('perm' in check) for (const p of check.privs) into.add(p);
  else if ('or' in check) for (const c of check.or) privilegesIn(c, into);
  else if ('and' in check) for (const c of check.and) privilegesIn(c, into);
  return into;
}

function evaluate(check: PermCheck, holds: (path: string, priv: string) => boolean): boolean {
  if ('perm' in check) return check.any ? check.privs.some((p) => holds(check.perm, p)) : check.privs.every((p) => holds(check.perm, p));
  if ('or' in check) return check.or.some((c) => evaluate(c, holds));
  if ('and' in check) return check.and.every((c) => evaluate(c, holds));
  return true;
}

/**
 * Why a tools.yaml `privilege` disagrees with the endpoint's check, or undefined when it agrees:
 * every privilege it names must be part of the check, and holding them everywhere must pass it.
 */
export function privilegeDisagreement(written: string, check: PermCheck): string | undefined {
  const named = written.split(/\s*(?:,|\bor\b|\band\b)\s*/).filter((s) => s !== '');
  const known = privilegesIn(check);
  const foreign = named.filter((p) => !known.has(p));
  if (foreign.length > 0 || !evaluate(check, (_path, priv) => named.includes(priv))) {
    return `"${written}" disagrees with the pinned API, which checks ${describeCheck(check)}; write the privilege it checks, or leave privilege out`;
  }
  return undefined;
}


/**
 * A token's effective privileges, as GET /access/permissions reports them: for every path with an
 * ACL entry, the privileges that hold there (inherited ones included). A path without its own
 * entry has those of its closest listed ancestor.
 */
export class TokenPrivileges {
  private readonly paths: Map<string, Set<string>>;

  /** `rowSpaces`: the API's ACL tree by privilege family (ApiDescription.rowSpaces). */
  constructor(
    answer: unknown,
    private readonly rowSpaces: Readonly<Record<string, string>>,
  ) {
    this.paths = new Map();
    if (typeof answer !== 'object' || answer === null) return;
    for (const [path, privs] of Object.entries(answer)) {
      if (typeof privs !== 'object' || privs === null) continue;
      const held = Object.entries(privs as Record<string, unknown>)
        .filter(([, granted]) => granted !== 0 && granted !== '0' && granted !== false)
        .map(([p]) => p);
      this.paths.set(path === '' ? '/' : path.replace(/\/+$/, '') || '/', new Set(held));
    }
  }

  /** Every (path, privileges) entry, sorted by path. */
  entries(): [string, string[]][] {
    return [...this.paths].sort(([a], [b]) => a.localeCompare(b)).map(([p, s]) => [p, [...s].sort()]);
  }

  /** Whether `priv` holds on a concrete path. */
  holds(path: string, priv: string): boolean {
    for (let p = path; ; p = p.slice(0, Math.max(1, p.lastIndexOf('/')))) {
      const set = this.paths.get(p);
      if (set !== undefined) return set.has(priv);
      if (p === '/') return false;
    }
  }

  /** Whether `priv` holds somewhere at or below `path`: for a template path, on some value of it. */
  holdsSomewhere(path: string, priv: string): boolean {
    if (!path.includes('{')) return this.holds(path, priv);
    const fixed = path.split('/{')[0] ?? path;
    const root = fixed === '' ? '/' : fixed;
    if (this.holds(root, priv)) return true;
    const below = root === '/' ? '/' : `${root}/`;
    for (const [p, set] of this.paths) if (p.startsWith(below) && set.has(priv)) return true;
    // Guests and storage are also reached through the pools they belong to.
    if (root.startsWith('/vms') || root.startsWith('/storage')) {
      for (const [p, set] of this.paths) if (p.startsWith('/pool/') && set.has(priv)) return true;
    }
    return false;
  }

  /** Whether `priv` is missing on part of `path`'s subtree (rows there are left out of lists). */
  lacksSomewhere(path: string, priv: string): boolean {
    if (!this.holds(path, priv)) return true;
    for (const [p, set] of this.paths) if (p.startsWith(`${path}/`) && !set.has(priv)) return true;
    return false;
  }

  /** Where the rows of a filtered list live in the ACL tree, by the privilege they need. */
  private rowSpace(priv: string): string {
    return this.rowSpaces[priv.split('.')[0] ?? ''] ?? '/';
  }

  /** What the token lacks to use a tool at all, or undefined when it can (for some argument values). */
  missing(permission: ToolPermission): string | undefined {
    const { check, rows } = permission;
    if (check !== undefined && !evaluate(check, (path, priv) => this.holdsSomewhere(path, priv))) return describeCheck(check);
    if (rows !== undefined && !this.holdsSomewhere(`${this.rowSpace(rows)}/{id}`, rows)) return `${rows} on ${this.rowSpace(rows)}`;
    return undefined;
  }

  /** For a list whose rows Proxmox filters: which privilege is missing on part of the tree, if any. */
  partialRows(permission: ToolPermission): string | undefined {
    const { rows } = permission;
    if (rows === undefined) return undefined;
    return this.lacksSomewhere(this.rowSpace(rows), rows) ? `${rows} on part of ${this.rowSpace(rows)}` : undefined;
  }
}
