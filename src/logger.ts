import { pino, type DestinationStream, type Logger } from 'pino'

export type { Logger }

/** The one root logger: NDJSON to stdout, secrets redacted wherever they could appear. */
export function createLogger(
  opts: { level: string; destination?: DestinationStream } = { level: 'info' }
): Logger {
  return pino(
    {
      name: 'health-bridge',
      level: opts.level,
      base: undefined,
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'req.headers.authorization',
          '*.token',
          'token',
          'env',
          '*.env',
        ],
        censor: '<redacted>',
      },
    },
    opts.destination
  )
}
