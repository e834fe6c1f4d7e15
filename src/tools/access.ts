// The catalogue as this token sees it: tools it cannot use are left out of tools/list (or listed
// with what is missing), and list tools whose rows Proxmox filters say when rows may be missing.
import type { CompiledTool } from '../manifest/compile.js';
import type { TokenPrivileges } from '../manifest/permissions.js';

export type UnusableTools = 'hide' | 'show';

export interface ToolAccess {
  tool: CompiledTool;
  /** What the token lacks to use the tool at all. */
  missing?: string;
  /** For lists: the privilege missing on part of the tree, so rows may be left out. */
  partial?: string;
}

/** Each tool with what this token lacks for it; nothing is known (and nothing judged) without privileges. */
export function judgeTools(tools: readonly CompiledTool[], privileges: TokenPrivileges | undefined): ToolAccess[] {
  return tools.map((tool) => {
    const out: ToolAccess = { tool };
    if (privileges === undefined) return out;
    const missing = privileges.missing(tool.permission);
    if (missing !== undefined) out.missing = missing;
    else if (tool.output.shape === 'list') {
      const partial = privileges.partialRows(tool.permission);
      if (partial !== undefined) out.partial = partial;
    }
    return out;
  });
}

/** The note a list answer carries when rows may be missing. */
export function partialNote(partial: string): string {
  return `rows may be missing: this token lacks ${partial}, and Proxmox leaves out what a token may not see`;
}

/** The tools to list: unusable ones left out (`hide`) or kept with what is missing in their description (`show`). */
export function listedTools(judged: readonly ToolAccess[], mode: UnusableTools): CompiledTool[] {
  const out: CompiledTool[] = [];
  for (const { tool, missing } of judged) {
    if (missing === undefined) out.push(tool);
    else if (mode === 'show') out.push({ ...tool, description: `${tool.description} Not usable with this token: it lacks ${missing}.` });
  }
  return out;
}

/** Across clusters: a tool is usable where any cluster's token can use it (calls name the cluster). */
export function combineJudgements(perCluster: readonly ToolAccess[][]): ToolAccess[] {
  const first = perCluster[0] ?? [];
  return first.map((j, i) => {
    const all = perCluster.map((list) => list[i] ?? j);
    return all.find((a) => a.missing === undefined) ?? j;
  });
}

/** Per list tool: the note its answers carry on this cluster. */
export function partialNotes(judged: readonly ToolAccess[]): Map<string, string> {
  return new Map(judged.flatMap((j) => (j.partial === undefined ? [] : [[j.tool.name, partialNote(j.partial)] as const])));
}
