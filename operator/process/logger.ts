// The process logger: structured JSON lines on stdout (pino), one per event; subsystems add
// a `component` through child loggers so that a log pipeline can filter per subsystem.
import { pino, type Logger } from 'pino';
import { textLogStream } from './text-log.ts';

export type { Logger };

export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * A logger at the given level; `destination` defaults to stdout (fd 1). `text` writes lines
 * for a person (text-log.ts) to that destination instead of JSON.
 */
export function createLogger(level: string, destination: number | NodeJS.WritableStream = 1, format: 'json' | 'text' = 'json'): Logger {
  if (format === 'text') {
    const out = typeof destination === 'number' ? (destination === 2 ? process.stderr : process.stdout) : destination;
    return createLogger(level, textLogStream(out), 'json');
  }
  return pino(
    {
      level,
      base: { name: 'meshpilot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination,
  );
}
