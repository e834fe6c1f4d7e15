// Logs are lines on stderr: stdout belongs to the MCP protocol. A log line may carry text from
// Proxmox (privilege names, versions, error messages), so every line is made safe for a terminal
// (no escape sequences, no bidi tricks) and redacted here, whatever the caller passed.
import { registerSecret } from './secrets.js';
import { redactText, stripUnsafe } from './sanitize.js';

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

/** One line for a terminal: no controls or invisible characters, no secrets, no line breaks. */
export function terminalLine(text: string): string {
  return redactText(stripUnsafe(text)).replace(/\s*\n\s*/g, ' ');
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = ORDER[options.level];
  for (const secret of options.secrets ?? []) registerSecret(secret);
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const log = (level: LogLevel, message: string): void => {
    if (ORDER[level] < threshold) return;
    write(`${new Date().toISOString()} ${level} proxmox-mcp: ${terminalLine(message)}\n`);
  };
  return {
    debug: (m) => { log('DEBUG', m); },
    info: (m) => { log('INFO', m); },
    warn: (m) => { log('WARNING', m); },
    error: (m) => { log('ERROR', m); },
  };
}
