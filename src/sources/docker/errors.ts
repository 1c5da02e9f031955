/** The Docker source's own failures; `describeError` in ../errors.ts puts any failure into words. */
import { SourceError } from '../errors.js'

/** The events stream ended or failed; the message says how. */
export class StreamEndedError extends SourceError {
  override readonly name = 'StreamEndedError'
}
