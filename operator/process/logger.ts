// The process logger: structured JSON lines on stdout (pino), one per event; subsystems add
// a `component` through child loggers so that a log pipeline can filter per subsystem.
import { pino, type Logger } from 'pino';

export type { Logger };

/** A JSON logger at the given level; `destination` defaults to stdout (fd 1). */
export function createLogger(level: string, destination: number | NodeJS.WritableStream = 1): Logger {
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
