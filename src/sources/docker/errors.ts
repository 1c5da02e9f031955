/**
 * How the Docker source puts a failure into words: one line for a log line and for
 * `bridge.sources.docker.detail`, never a container's data.
 */
import { DockerApiError } from './docker-api.js'
import { LineTooLongError } from './event-stream.js'

/** The events stream ended or failed; the message says how. */
export class StreamEndedError extends Error {
  override readonly name = 'StreamEndedError'
}

/** One line for logs and the status `detail`. */
export function describeError(err: unknown): string {
  if (
    err instanceof DockerApiError ||
    err instanceof StreamEndedError ||
    err instanceof LineTooLongError
  ) {
    return err.message
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' && !err.message.includes(code)
      ? `${code}: ${err.message}`
      : err.message
  }
  return String(err)
}
