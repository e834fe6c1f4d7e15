// `proxmox-mcp doctor`: checks the setup one step at a time and prints a verdict for each, on
// stderr like everything else this program says. Exit code 0 only when nothing failed.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createUpstream, type UpstreamFailure } from '../proxmox/client.js';
import { baseUrl, upstreamOptions } from '../proxmox/upstream-options.js';
import { checkTokenPrivileges, describeExcess, judgeTokenCheck } from '../proxmox/token-check.js';
import { DEFAULT_API } from '../proxmox/api/index.js';
import { terminalLine } from '../logger.js';
import { registerSecret } from '../secrets.js';
import { loadTools } from '../manifest/load.js';
import type { TokenPrivileges } from '../manifest/permissions.js';
import { TOOLSETS } from '../manifest/toolsets.js';
import { judgeTools } from '../tools/access.js';

type Verdict = 'PASS' | 'WARN' | 'FAIL';
type Report = (verdict: Verdict, check: string, detail: string) => void;

/** Per toolset: which chosen tools this token can use, and what to grant for the others. */
async function reportToolsets(config: Config, privileges: TokenPrivileges, report: Report): Promise<void> {
  let tools;
  try {
    tools = (await loadTools(config)).tools;
  } catch (error) {
    report('FAIL', 'tools', error instanceof Error ? error.message : String(error));
    return;
  }
  const judged = judgeTools(tools, privileges);
  for (const set of TOOLSETS) {
    const members = judged.filter((j) => j.tool.toolset === set);
    if (members.length === 0) continue;
    const unusable = members.filter((j) => j.missing !== undefined);
    const usable = members.filter((j) => j.missing === undefined).map((j) => j.tool.name);
    const grant = [...new Set(unusable.map((j) => j.missing))].join('; ');
    const detail =
      unusable.length === 0
        ? `all ${members.length} usable: ${usable.join(', ')}`
        : `${usable.length} of ${members.length} usable${usable.length > 0 ? ` (${usable.join(', ')})` : ''}; not usable: ${unusable.map((j) => j.tool.name).join(', ')}: grant ${grant}`;
    report(unusable.length === 0 ? 'PASS' : 'WARN', `toolset ${set}`, detail);
  }
}

/** The checks of one cluster's host: TLS, reachability, the token and its privileges, the release, the toolsets. */
async function checkCluster(config: Config, report: Report): Promise<void> {
  const { api } = config;
  if (config.fingerprint !== undefined) report('PASS', 'tls mode', 'certificate pinned by PROXMOX_TLS_FINGERPRINT');
  else if (!config.verifySsl) report('WARN', 'tls mode', 'PROXMOX_VERIFY_SSL=false: the certificate is not verified; pin it with PROXMOX_TLS_FINGERPRINT');
  else report('PASS', 'tls mode', config.caFile ? `verified against ${config.caFile}` : 'verified against the system CAs');

  const upstream = createUpstream(upstreamOptions(config, []));
  const address = baseUrl(api, config.host, config.port);
  try {
    const version = await upstream.read(api.versionPath, AbortSignal.timeout(config.requestTimeoutMs));
    if (!version.ok) {
      const f: UpstreamFailure = version;
      const step = f.kind === 'tls' ? 'tls' : f.kind === 'http' && f.status === 401 ? 'authentication' : 'reachability';
      const hint =
        f.kind === 'tls'
          ? 'set PROXMOX_SSL_CERT to the CA file or PROXMOX_TLS_FINGERPRINT to the certificate fingerprint'
          : f.status === 401
            ? 'check PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET'
            : 'check PROXMOX_HOST, PROXMOX_PORT and the network path';
      report('FAIL', step, `${f.status ? `HTTP ${f.status} ` : ''}${f.message}: ${hint}`);
      return;
    }
    report('PASS', 'reachability', `answered at ${address}`);
    report('PASS', 'tls', 'certificate accepted');
    report('PASS', 'authentication', 'the token is accepted');
    const data = version.data as { version?: unknown; release?: unknown };
    // Cut short: it is printed as it came from the host.
    const running = typeof data.version === 'string' ? data.version.slice(0, 64) : 'unknown';
    const [major, minor] = running.split('.');
    const [pinMajor, pinMinor] = api.pinnedRelease.split('.');
    const pull = `npm run spec:pull --${api.id === DEFAULT_API.id ? '' : ` --api ${api.id}`} --from ${config.host}`;
    // A pin named by its file's date (a viewer file that carries no release number) cannot be compared.
    if (!/^\d+\.\d+/.test(api.pinnedRelease)) {
      report('PASS', 'release', `${api.product} ${running}; API pinned from the schema file of ${api.pinnedRelease} ("${pull}" pins this host's own)`);
    } else if (major === pinMajor && minor === pinMinor) report('PASS', 'release', `${api.product} ${running}; pinned API ${api.pinnedRelease}`);
    else report('WARN', 'release', `${api.product} ${running}, but the pinned API is ${api.pinnedRelease}: run "${pull}" to re-pin and see which tools change`);

    const check = await checkTokenPrivileges(upstream, config.requestTimeoutMs, api);
    // The same verdict start-up reaches: with PROXMOX_REQUIRE_READONLY_TOKEN=true what it refuses fails here.
    const verdict = judgeTokenCheck(check, config.tokenId, config.requireReadonlyToken, api);
    const level: Verdict = verdict.refuse !== undefined ? 'FAIL' : 'WARN';
    if (check.error !== undefined) report(level, 'token privileges', `could not be read (${check.error})`);
    else if (check.ok) report('PASS', 'token privileges', 'read-only (audit privileges only)');
    else report(level, 'token privileges', describeExcess(config.tokenId, check.excess, api));
    if (check.privileges !== undefined) await reportToolsets(config, check.privileges, report);
  } finally {
    await upstream.close();
  }
}

export async function runDoctor(env: Record<string, string | undefined> = process.env, write: (line: string) => void = (l) => process.stderr.write(l)): Promise<number> {
  const state = { failed: false };
  // Every line may carry text from the host (a version, privilege names): made safe for a terminal here.
  const report: Report = (verdict, check, detail) => {
    if (verdict === 'FAIL') state.failed = true;
    write(`${verdict.padEnd(4)}  ${check.padEnd(18)} ${terminalLine(detail)}\n`);
  };

  let config: Config;
  try {
    config = loadConfig(env);
    registerSecret(config.tokenSecret);
    report('PASS', 'configuration', `${config.host}:${config.port} as ${config.tokenId}`);
  } catch (error) {
    report('FAIL', 'configuration', error instanceof ConfigError ? error.message : String(error));
    return 1;
  }
  for (const warning of config.warnings) report('WARN', 'secret file', warning);
  // Each cluster on its own: one that fails its checks does not stop the others'.
  for (const cluster of config.clusters) {
    if (config.clusters.length > 1) write(`cluster ${cluster.name}:\n`);
    await checkCluster({ ...config, ...cluster }, report);
  }
  write(state.failed ? 'verdict: problems found (see FAIL lines)\n' : 'verdict: ready\n');
  return state.failed ? 1 : 0;
}
