import type { Context } from 'hono'

import { HttpError, badRequest } from './errors.js'

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * A body that is not JSON at all gets the same shape as one that fails the schema (an `issues`
 * list, docs/api.md "Errors"), so a client shows both the same way.
 */
const badBody = (message: string) => badRequest(message, [{ path: '(body)', message }])

function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  // What every client sends, without splitting and lowercasing it per heartbeat.
  if (contentType === 'application/json') return true
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

/**
 * Reads a JSON body within `limit` bytes: 415 unless it is declared JSON, 413 when it is larger
 * (by Content-Length before reading, or while counting a chunked body), 400 when it is not
 * UTF-8 JSON. Hono's `c.req.json()` checks none of these, so we do.
 */
export async function readJsonBody(c: Context, limit: number): Promise<unknown> {
  const contentType = c.req.header('content-type')
  if (!isJsonMediaType(contentType)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `send the heartbeat as JSON with "Content-Type: application/json" (got ${contentType === undefined ? 'no Content-Type' : JSON.stringify(contentType.slice(0, 100))})`
    )
  }
  const tooLarge = () =>
    new HttpError(413, 'payload_too_large', `the body must be at most ${limit} bytes`)
  const declared = c.req.header('content-length')
  if (declared !== undefined && Number(declared) > limit) throw tooLarge()

  let bytes: Uint8Array
  // Only a chunked body (no Content-Length) needs the web stream. Touching `c.req.raw.body`
  // makes @hono/node-server build a whole web Request around the socket, which cost about a
  // fifth of a heartbeat's CPU (docs/benchmarks.md); `arrayBuffer()` reads the socket directly.
  const body = declared === undefined ? c.req.raw.body : null
  try {
    if (body === null) {
      bytes = new Uint8Array(await c.req.arrayBuffer())
      if (bytes.byteLength > limit) throw tooLarge()
    } else {
      // Chunked: count while reading and stop as soon as the limit is passed.
      const reader = body.getReader()
      const chunks: Uint8Array[] = []
      let total = 0
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        total += value.byteLength
        if (total > limit) {
          await reader.cancel().catch(() => undefined)
          throw tooLarge()
        }
        chunks.push(value)
      }
      bytes = new Uint8Array(total)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.byteLength
      }
    }
  } catch (err) {
    if (err instanceof HttpError) throw err
    // The client closed the connection mid-body (or sent less than its Content-Length):
    // bad input, not a server error, and not worth an error log line per attempt.
    throw badBody('the body ended early: the connection closed before all of it arrived')
  }
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    throw badBody('the body is not valid UTF-8')
  }
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    // Only a body that failed to parse is looked at again (no blank JSON parses).
    if (text.trim() === '')
      throw badBody('the body is empty; send a JSON object like {"service":"my-service"}')
    throw badBody(`the body is not valid JSON: ${(err as Error).message}`)
  }
}
