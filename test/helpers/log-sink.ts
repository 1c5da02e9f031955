import { Writable } from 'node:stream'

import { createLogger, type Logger } from '../../src/logger.js'

/** A pino logger that keeps every line as parsed JSON, so tests assert on fields. */
export function memoryLogger(level = 'debug'): {
  logger: Logger
  lines: Record<string, unknown>[]
  raw: string[]
} {
  const lines: Record<string, unknown>[] = []
  const raw: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue
        raw.push(line)
        lines.push(JSON.parse(line) as Record<string, unknown>)
      }
      done()
    },
  })
  return { logger: createLogger({ level, destination }), lines, raw }
}
