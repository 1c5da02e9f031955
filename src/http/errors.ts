/**
 * One error vocabulary and one JSON shape for every error answer. Handlers throw `HttpError`;
 * the single `onError` turns it (or anything unexpected) into `{ error, message, issues? }`.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'

import type { Logger } from '../logger.js'
import { formatPath, type ErrorBody, type ErrorCode } from '../wire/error.js'

export class HttpError extends Error {
  override readonly name = 'HttpError'
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: ErrorBody['issues'],
    readonly headers?: Record<string, string>
  ) {
    super(message)
  }
}

export const badRequest = (message: string, issues?: ErrorBody['issues']) =>
  new HttpError(400, 'invalid_request', message, issues)

export const notFound = (message: string) => new HttpError(404, 'not_found', message)

export const unauthorized = (message: string) =>
  new HttpError(401, 'unauthorized', message, undefined, {
    'WWW-Authenticate': 'Bearer realm="health-bridge"',
  })

/** zod issues as docs/api.md lists them: `[{ path: "service", message: "..." }]`. */
export function issuesOf(error: z.ZodError): NonNullable<ErrorBody['issues']> {
  return error.issues.map((i) => {
    let message = i.message
    if (i.code === 'unrecognized_keys') message = `unknown field(s): ${i.keys.join(', ')}`
    return { path: i.path.length === 0 ? '(body)' : formatPath(i.path), message }
  })
}

export function errorResponse(c: Context, err: HttpError): Response {
  const body: ErrorBody = { error: err.code, message: err.message }
  if (err.issues) body.issues = err.issues
  return c.json(body, err.status, err.headers)
}

export function createErrorHandler(logger: Logger) {
  return (err: Error, c: Context): Response => {
    if (err instanceof HttpError) return errorResponse(c, err)
    // Never leak internals; the log has the stack.
    logger.error({ err, method: c.req.method, path: c.req.path }, 'request failed')
    return errorResponse(
      c,
      new HttpError(500, 'internal_error', 'internal error; see the bridge log')
    )
  }
}
