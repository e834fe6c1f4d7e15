// Several clusters in one server: PROXMOX_MCP_CLUSTERS names a YAML file with a `clusters:` list.
// Each entry says how to reach and trust one host and which token to use; the first is the default.
// Without the file, the single-cluster settings make one cluster named `default`.
import { readFileSync, statSync } from 'node:fs';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { apiForService, type ApiDescription } from '../proxmox/api/index.js';
import { FINGERPRINT_FORM, parseFingerprint } from '../proxmox/fingerprint.js';
import { tokenIdProblem, tokenSecretProblem } from '../secrets.js';

export interface ClusterSettings {
  name: string;
  api: ApiDescription;
  host: string;
  port: number;
  tokenId: string;
  tokenSecret: string;
  verifySsl: boolean;
  caFile: string | undefined;
  fingerprint: string | undefined;
}

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[?[0-9A-Fa-f:.]+\]?)$/;
const KEYS = ['name', 'api', 'host', 'port', 'token_id', 'token_secret', 'token_secret_file', 'token_secret_env', 'ca_file', 'fingerprint', 'verify_ssl'];

/** Reads and checks the clusters file; every problem names the file, the line and the field. */
export function loadClusters(file: string, env: Record<string, string | undefined>, warnings: string[], fail: (message: string) => Error): ClusterSettings[] {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode;
  } catch (error) {
    throw fail(`PROXMOX_MCP_CLUSTERS: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) throw fail(`PROXMOX_MCP_CLUSTERS: ${file}:${lines.linePos(doc.errors[0]?.pos[0] ?? 0).line}: ${doc.errors[0]?.message.split('\n')[0] ?? 'not YAML'}`);
  const at = (path: (string | number)[]): string => {
    for (let i = path.length; i >= 0; i--) {
      const node: unknown = doc.getIn(path.slice(0, i), true);
      if (isNode(node) && node.range) return `${file}:${lines.linePos(node.range[0]).line}`;
    }
    return file;
  };
  const raw = doc.toJS({ maxAliasCount: 0 }) as { clusters?: unknown } | null;
  const list = raw?.clusters;
  if (!Array.isArray(list) || list.length === 0) throw fail(`PROXMOX_MCP_CLUSTERS: ${at([])}: needs a non-empty list "clusters:"`);
  const groupOrOthersRead = (mode & 0o044) !== 0 && process.platform !== 'win32';
  const names = new Set<string>();
  let firstApi: ApiDescription | undefined;
  return list.map((entry: unknown, i) => {
    const problem = (field: string, message: string): Error => fail(`PROXMOX_MCP_CLUSTERS: ${at(['clusters', i, field])}: clusters[${i}].${field} ${message}`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw fail(`PROXMOX_MCP_CLUSTERS: ${at(['clusters', i])}: clusters[${i}] must be a mapping`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) if (!KEYS.includes(key)) throw problem(key, `is not a known key (the keys are ${KEYS.join(', ')})`);
    const str = (key: string): string | undefined => {
      const v = e[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string' || v.trim() === '') throw problem(key, 'must be a non-empty string');
      return v.trim();
    };
    const name = str('name');
    if (name === undefined || !NAME.test(name)) throw problem('name', 'must be a short lowercase name (letters, digits, - and _), for example "prod"');
    if (names.has(name)) throw problem('name', `"${name}" is used by an earlier cluster`);
    names.add(name);
    const apiName = str('api') ?? 'pve';
    const api = apiForService(apiName);
    if (api === undefined) throw problem('api', `"${apiName}" is not an API this server speaks`);
    // The tools are those of one API: a cluster of another API would be offered tools it does not have.
    firstApi ??= api;
    if (api.id !== firstApi.id) throw problem('api', `is ${api.product}, but the first cluster's is ${firstApi.product}: one server lists one API's tools, so run one server per API`);
    const host = str('host');
    if (host === undefined || !HOST.test(host)) throw problem('host', 'must be a host name or IP address, without scheme, port or path');
    const port = e.port === undefined ? api.defaultPort : e.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw problem('port', 'must be a whole number from 1 to 65535');
    const tokenId = str('token_id');
    if (tokenId === undefined) throw problem('token_id', `is required: the full token ID, for example ${api.tokenId.example}`);
    const tokenProblem = tokenIdProblem(tokenId, api);
    if (tokenProblem !== undefined) throw problem('token_id', tokenProblem);
    const sources = ['token_secret', 'token_secret_file', 'token_secret_env'].filter((k) => e[k] !== undefined);
    if (sources.length !== 1) throw problem(sources[1] ?? 'token_secret', 'needs exactly one of token_secret, token_secret_file and token_secret_env');
    let secret: string | undefined;
    if (e.token_secret !== undefined) {
      // A secret written into a file others can read is a secret shared with them.
      if (groupOrOthersRead) throw problem('token_secret', `is written inline, but ${file} can be read by group or others: chmod 600 it, or use token_secret_file or token_secret_env`);
      secret = str('token_secret');
    } else if (e.token_secret_file !== undefined) {
      const path = str('token_secret_file') ?? '';
      try {
        secret = readFileSync(path, 'utf8').replace(/(\r?\n)+$/, '');
        if ((statSync(path).mode & 0o077) !== 0 && process.platform !== 'win32') warnings.push(`PROXMOX_MCP_CLUSTERS: cluster ${name}: ${path} can be read by other users; restrict it with chmod 600`);
      } catch (error) {
        throw problem('token_secret_file', `cannot be read: ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    } else {
      const variable = str('token_secret_env') ?? '';
      secret = env[variable]?.trim();
      if (secret === undefined || secret === '') throw problem('token_secret_env', `names ${variable}, which is not set`);
    }
    // The secret is never echoed, not even when it is malformed.
    if (secret === undefined) throw problem(sources[0] ?? 'token_secret', 'is empty');
    const secretProblem = tokenSecretProblem(secret);
    if (secretProblem !== undefined) throw problem(sources[0] ?? 'token_secret', secretProblem);
    const caFile = str('ca_file');
    if (caFile !== undefined) {
      try {
        readFileSync(caFile);
      } catch {
        throw problem('ca_file', `cannot be read: ${caFile}`);
      }
    }
    const fingerprintText = str('fingerprint');
    const fingerprint = fingerprintText === undefined ? undefined : parseFingerprint(fingerprintText);
    if (fingerprintText !== undefined && fingerprint === undefined) throw problem('fingerprint', `must be ${FINGERPRINT_FORM}`);
    const verify = e.verify_ssl ?? true;
    if (typeof verify !== 'boolean') throw problem('verify_ssl', 'must be true or false');
    return { name, api, host, port, tokenId, tokenSecret: secret, verifySsl: verify, caFile, fingerprint };
  });
}
