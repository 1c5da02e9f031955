/**
 * How a source puts a failure into words: one line for a log line and for the document's
 * `detail` (`bridge.sources.docker.detail`, a peer's `detail`), never a container's data or a
 * request's headers.
 */

/** A failure whose message is already written for users (the source's own wording). */
export class SourceError extends Error {
  override readonly name: string = 'SourceError'
}

/** One line for logs and the status `detail`. */
export function describeError(err: unknown): string {
  if (err instanceof SourceError) return err.message
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' && !err.message.includes(code)
      ? `${code}: ${err.message}`
      : err.message
  }
  return String(err)
}
