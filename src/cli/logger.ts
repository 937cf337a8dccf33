/*
 * The member's logger: JSON lines in the shape of etcd 3.4's zap logger, which operators search by
 * level and time: `"level":"info"` (a word), `"ts":"2026-12-07T00:50:12.203Z"` (ISO-8601, ms), `"msg"`,
 * then our fields. Written in that shape whatever --logger says (capnslog's text lines carry no
 * fields). --log-outputs as etcd 3.4 takes them: `default` and `stderr` (standard error), `stdout`,
 * or file paths (appended to; with --logger=zap only, several at once).
 */
import { openSync, closeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config-types.js';
import { verifyError } from './errors.js';

const goQuote = (s: string): string => JSON.stringify(s);

/** etcd's checks of --logger and --log-outputs together (embed/config_logging.go's messages). */
export function checkLogOutputs(logger: Config['logger'], outputs: readonly string[]): void {
  if (logger === 'capnslog') {
    if (outputs.length !== 1) throw verifyError(`--logger=capnslog supports only 1 value in '--log-outputs', got [${outputs.map(goQuote).join(' ')}]`);
    if (!['default', 'stderr', 'stdout'].includes(outputs[0]!)) {
      throw verifyError(`unknown log-output ${goQuote(outputs[0]!)} (only supports "default", "stderr", "stdout")`);
    }
  } else if (outputs.length > 1 && outputs.includes('default')) {
    throw verifyError('multi logoutput for "default" is not supported yet');
  }
}

/** Go's text for the errno of a failed open (the part after "open <path>: "). */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
};

function fileSink(file: string): DestinationStream {
  try {
    closeSync(openSync(file, 'a', 0o600)); // fail now, with etcd's words, not on the first line
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw verifyError(`open sink ${goQuote(file)}: open ${file}: ${ERRNO_TEXT[code] ?? (e as Error).message}`);
  }
  return pino.destination({ dest: file, append: true, sync: false });
}

export function makeLogger(c: Pick<Config, 'logLevel' | 'logOutputs' | 'logger'>): Logger {
  const level = c.logLevel === 'panic' ? 'fatal' : c.logLevel;
  const outputs = c.logOutputs.length === 0 ? ['default'] : [...new Set(c.logOutputs)];
  const streams = outputs.map((o) =>
    o === 'default' || o === 'stderr' ? pino.destination({ dest: 2, sync: false })
      : o === 'stdout' ? pino.destination({ dest: 1, sync: false })
        : fileSink(o));
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: () => `,"ts":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (streams.length === 1) return pino(options, streams[0]!);
  return pino(options, pino.multistream(streams.map((stream) => ({ stream, level }))));
}
