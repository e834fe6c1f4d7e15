// Toolsets: every tool belongs to one, and an operator picks toolsets (and single tools) to keep
// tools/list, which a host sends to the model on every turn, as short as the work at hand allows.
export const TOOLSETS = ['cluster', 'nodes', 'guests', 'storage', 'backup', 'ha', 'ceph', 'network', 'tasks', 'metrics', 'agent', 'api'] as const;
export type Toolset = (typeof TOOLSETS)[number];

/** Listed unless asked for otherwise: `api` reaches every harmless GET and is chosen deliberately. */
export const DEFAULT_TOOLSETS: readonly Toolset[] = TOOLSETS.filter((t) => t !== 'api');

export interface ToolChoice {
  /** Undefined: the default toolsets. */
  toolsets: readonly string[] | undefined;
  /** Tool names added whatever their toolset. */
  allow: readonly string[];
  /** Tool names left out. */
  deny: readonly string[];
}

export class ToolChoiceError extends Error {
  override readonly name = 'ToolChoiceError';
}

/** A comma-separated variable as a list of names (empty entries dropped). */
export function nameList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function closest(name: string, known: readonly string[]): string {
  const hit = known.find((k) => k.includes(name) || name.includes(k));
  return hit === undefined ? '' : ` (did you mean "${hit}"?)`;
}

/**
 * The tools an operator chose, in manifest order: those of the chosen toolsets, plus the allowed
 * ones, minus the denied ones. An unknown toolset or tool name is an error that names it: a typo
 * must not silently hide a tool (or list one the operator meant to drop).
 */
export function chooseTools<T extends { name: string; toolset: string }>(tools: readonly T[], choice: ToolChoice): T[] {
  const names = tools.map((t) => t.name);
  const problems: string[] = [];
  const sets = choice.toolsets ?? DEFAULT_TOOLSETS;
  const wanted = new Set<string>();
  for (const s of sets) {
    if (s === 'all') for (const t of TOOLSETS) wanted.add(t);
    else if ((TOOLSETS as readonly string[]).includes(s)) wanted.add(s);
    else problems.push(`PROXMOX_MCP_TOOLSETS: unknown toolset "${s}"${closest(s, TOOLSETS)}; the toolsets are ${TOOLSETS.join(', ')} (or all)`);
  }
  for (const [variable, list] of [
    ['PROXMOX_MCP_TOOLS_ALLOW', choice.allow],
    ['PROXMOX_MCP_TOOLS_DENY', choice.deny],
  ] as const) {
    for (const n of list) if (!names.includes(n)) problems.push(`${variable}: unknown tool "${n}"${closest(n, names)}`);
  }
  if (problems.length > 0) throw new ToolChoiceError(problems.join('\n'));
  const allow = new Set(choice.allow);
  const deny = new Set(choice.deny);
  return tools.filter((t) => !deny.has(t.name) && (wanted.has(t.toolset) || allow.has(t.name)));
}
