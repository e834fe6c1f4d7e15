// With more than one cluster, every tool takes `cluster` (default: the first), list tools also
// take "*" (every cluster, merged), and get_clusters says which clusters answer.
import type { CompiledTool } from '../manifest/compile.js';

export const GET_CLUSTERS = 'get_clusters';

export function clustersTool(): CompiledTool {
  return {
    name: GET_CLUSTERS,
    title: 'Clusters',
    description: 'Every configured cluster: reachable or not, Proxmox release, quorum, node count. Names for the cluster argument.',
    toolset: 'cluster',
    path: '',
    privilege: 'any token',
    permission: {},
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    inputSchema: { type: 'object', properties: {} },
    argumentSchema: { type: 'object', properties: {}, additionalProperties: false },
    outputSchema: { type: 'object' },
    upstreamSchema: { type: 'object' },
    params: [],
    fixedQuery: {},
    output: { shape: 'list', types: {}, derive: {}, kinds: {}, page: 50, paged: false, errors: [] },
    generic: 'clusters',
  };
}

/** The tool with a `cluster` argument naming one of `names` (the first by default); lists also take "*". */
export function withClusterArgument(tool: CompiledTool, names: readonly string[]): CompiledTool {
  if (tool.generic === 'clusters' || tool.generic === 'find') return tool;
  const list = tool.output.shape === 'list' && tool.generic === undefined;
  const choices = list ? [...names, '*'] : [...names];
  const first = names[0] ?? '';
  const listed = { enum: choices, description: `default ${first}${list ? '; "*" = all, merged' : ''}` };
  const add = (schema: Record<string, unknown>, cluster: Record<string, unknown>): Record<string, unknown> => ({
    ...schema,
    properties: { cluster, ...(schema.properties as Record<string, unknown>) },
  });
  return { ...tool, inputSchema: add(tool.inputSchema, listed), argumentSchema: add(tool.argumentSchema, { enum: choices }) };
}
