// Every MCP SDK detail lives here, so an SDK change touches one file. Tools are registered from the
// compiled manifest in one loop, in manifest order, with our JSON Schema passed through unchanged.
import { McpServer, fromJsonSchema, type jsonSchemaValidator, type JsonSchemaType, type StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { CompiledManifest, CompiledTool } from '../manifest/compile.js';
import type { Logger } from '../logger.js';
import type { Runtime } from '../tools/runtime.js';
import { sanitizeText } from '../sanitize.js';
import { VERSION } from '../version.js';

const SERVER_NAME = 'proxmox-mcp';
export const SERVER_VERSION = VERSION;

function describeArgumentError(e: ErrorObject, schema: JsonSchemaType): string {
  const name = e.instancePath === '' ? 'arguments' : `"${e.instancePath.slice(1).replace(/\//g, '.')}"`;
  const props = Object.keys((schema as { properties?: object }).properties ?? {});
  switch (e.keyword) {
    case 'additionalProperties':
      // The name is the caller's: it may be anything, a pasted secret included.
      return `unknown argument "${sanitizeText(String(e.params.additionalProperty), 64)}"; this tool takes ${props.length ? props.join(', ') : 'no arguments'}`;
    case 'required':
      return `missing required argument "${String(e.params.missingProperty)}"`;
    case 'pattern':
      return `${name} has characters or a form that is not allowed (must match ${String(e.params.pattern)})`;
    case 'enum':
      return `${name} must be one of ${JSON.stringify(e.params.allowedValues)}`;
    default:
      return `${name} ${e.message ?? 'is invalid'}`;
  }
}

/** Validates with our own ajv (2020-12, strict): a schema that does not compile stops the server. */
export function createValidatorProvider(): jsonSchemaValidator {
  // validateSchema off and no meta-schemas: the manifest compiler already checked every schema
  // against the meta-schema (at build time, or at start-up for a custom manifest); compiling that
  // meta-schema again would cost the first call ~100 ms, and only adding it ~3 ms at start-up.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: false, validateFormats: false, validateSchema: false, meta: false });
  return {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the SDK's interface is generic
    getValidator<T>(schema: JsonSchemaType) {
      // Compiled on first use: the build already compiled every manifest schema under the same
      // strict rules (a custom manifest is compiled at start-up), so start-up need not pay for it.
      let compiled: ValidateFunction | undefined;
      return (input: unknown) => {
        const validate = (compiled ??= ajv.compile(schema));
        if (validate(input)) return { valid: true as const, data: input as T, errorMessage: undefined };
        const first = validate.errors?.[0];
        const detail = first ? describeArgumentError(first, schema) : 'arguments are invalid';
        return { valid: false as const, data: undefined, errorMessage: `${detail}. Check the tool's input schema and call again.` };
      };
    },
  };
}

export interface ServerDeps {
  manifest: CompiledManifest;
  runtime: Runtime;
  logger: Logger;
  maxArgumentElements?: number;
  /** What the host shows the model first; the default API's when not given. */
  instructions?: string;
}

/** How long a 2026-07-28 client may keep tools/list: the list never changes while the server runs. */
const TOOLS_LIST_TTL_MS = 10 * 60 * 1000;

const DEFAULT_INSTRUCTIONS =
  'Read-only access to a Proxmox cluster. Start with get_nodes or get_vms to learn node names and VM IDs; list tools are paged (limit, offset, next_offset).';

/**
 * Everything a registration needs (the validators, compiled once and on first use, each tool's
 * schemas, its config and its callback) is made once here; the factory it returns builds a fresh
 * McpServer from them, as the SDK's serving entries ask for one per connection (stdio) or per
 * request (HTTP), so a request pays only for the SDK's own registration objects.
 */
export function createServerFactory({ manifest, runtime, logger, maxArgumentElements = 256, instructions = DEFAULT_INSTRUCTIONS }: ServerDeps): () => McpServer {
  const validators = createValidatorProvider();
  // In manifest order, so tools/list is the same on every connection.
  const registrations = manifest.tools.map((tool) => registration(tool, runtime, validators, logger));
  return () => {
    const server = new McpServer(
      { name: SERVER_NAME, version: SERVER_VERSION },
      {
        capabilities: { tools: { listChanged: false } },
        cacheHints: { 'tools/list': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'public' } },
        instructions,
        maxToolInputElements: maxArgumentElements,
      },
    );
    for (const r of registrations) server.registerTool(r.name, r.config, r.callback);
    return server;
  };
}

/** Checks arguments against the tool's full argument schema; lists its lean copy in tools/list. */
function argumentsSchema(tool: CompiledTool, validators: jsonSchemaValidator): StandardSchemaWithJSON<Record<string, unknown>> {
  const checked = fromJsonSchema<Record<string, unknown>>(tool.argumentSchema, validators);
  const listed = (): Record<string, unknown> => tool.inputSchema;
  return { '~standard': { ...checked['~standard'], jsonSchema: { input: listed, output: listed } } };
}

function registration(tool: CompiledTool, runtime: Runtime, validators: jsonSchemaValidator, logger: Logger) {
  return {
    name: tool.name,
    config: {
      title: tool.title,
      description: tool.description,
      inputSchema: argumentsSchema(tool, validators),
      outputSchema: fromJsonSchema<Record<string, unknown>>(tool.outputSchema, validators),
      annotations: tool.annotations,
    },
    callback: async (args: Record<string, unknown>, ctx: { mcpReq?: { signal?: AbortSignal } }) => {
      try {
        const result = await runtime.call(tool, args, ctx.mcpReq?.signal);
        return result.isError
          ? { content: [{ type: 'text' as const, text: result.text }], isError: true }
          : { content: [{ type: 'text' as const, text: result.text }], structuredContent: result.structuredContent ?? {} };
      } catch (error) {
        // The SDK would copy a thrown message into the result verbatim: never let one through.
        logger.error(`${tool.name}: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return { content: [{ type: 'text' as const, text: 'The server failed while answering this call. Try again; if it persists, report it with the server log.' }], isError: true };
      }
    },
  };
}
