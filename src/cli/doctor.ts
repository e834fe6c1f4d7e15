// `proxmox-mcp doctor`: checks the setup one step at a time and prints a verdict for each, on
// stderr like everything else this program says. Exit code 0 only when nothing failed.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createUpstream, type UpstreamFailure } from '../proxmox/client.js';
import { baseUrl, upstreamOptions } from '../proxmox/upstream-options.js';
import { checkTokenPrivileges, describeExcess } from '../proxmox/token-check.js';
import { DEFAULT_API } from '../proxmox/api/index.js';
import { terminalLine } from '../logger.js';
import { registerSecret } from '../secrets.js';

type Verdict = 'PASS' | 'WARN' | 'FAIL';

export async function runDoctor(env: Record<string, string | undefined> = process.env, write: (line: string) => void = (l) => process.stderr.write(l)): Promise<number> {
  const state = { failed: false };
  // Every line may carry text from the host (a version, privilege names): made safe for a terminal here.
  const report = (verdict: Verdict, check: string, detail: string): void => {
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
  const { api } = config;
  for (const warning of config.warnings) report('WARN', 'secret file', warning);
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
      return 1;
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
    if (check.error !== undefined) report('WARN', 'token privileges', `could not be read (${check.error})`);
    else if (check.ok) report('PASS', 'token privileges', 'read-only (audit privileges only)');
    else report(config.requireReadonlyToken ? 'FAIL' : 'WARN', 'token privileges', describeExcess(config.tokenId, check.excess, api));
  } finally {
    await upstream.close();
  }
  write(state.failed ? 'verdict: problems found (see FAIL lines)\n' : 'verdict: ready\n');
  return state.failed ? 1 : 0;
}
