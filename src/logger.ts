// Logs are lines on stderr: stdout belongs to the MCP protocol.
export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Values that must never be written (the token secret); each is replaced wherever it appears. */
  secrets?: readonly string[];
  write?: (line: string) => void;
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('[redacted]');
  }
  // A token header that slipped into a message is redacted even when the secret is not known here.
  return out.replace(/(PVEAPIToken=[^=\s]+=)[^\s"']+/g, '$1[redacted]');
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = ORDER[options.level];
  const secrets = options.secrets ?? [];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const log = (level: LogLevel, message: string): void => {
    if (ORDER[level] < threshold) return;
    const oneLine = redact(message, secrets).replace(/[\r\n]+/g, ' ');
    write(`${new Date().toISOString()} ${level} proxmox-mcp: ${oneLine}\n`);
  };
  return {
    debug: (m) => { log('DEBUG', m); },
    info: (m) => { log('INFO', m); },
    warn: (m) => { log('WARNING', m); },
    error: (m) => { log('ERROR', m); },
  };
}
