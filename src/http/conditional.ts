/**
 * Conditional GET, written once for every answer that carries an ETag: the health answers, the
 * status page's fragment and assets, and the OpenAPI document. Each route only says which tag
 * and which body; the `If-None-Match` comparison, the `304` and the caching headers live here.
 *
 * (The store hashes the health document itself, incrementally over what a display draws, with
 * the same tag form: src/render/etag.ts.)
 */
import type { Context } from 'hono'

import { tagHash } from '../render/etag.js'

/** Pollers must revalidate every time, and may: the ETag makes that cheap. */
export const CACHE_CONTROL = 'no-cache'

/** For a representation that means the same when it reads the same (`W/"..."`). */
export function weakTagOf(text: string): string {
  return `W/"${tagHash(text)}"`
}

/** For a representation that is the same bytes whenever its tag is (`"..."`). */
export function strongTagOf(bytes: string): string {
  return `"${tagHash(bytes)}"`
}

/** Weak comparison, as If-None-Match wants: W/"x" matches "x"; `*` matches anything. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  const bare = etag.replace(/^W\//, '')
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag.replace(/^W\//, '') === bare
  })
}

type Body = string | Uint8Array<ArrayBuffer>

export interface Representation {
  etag: string
  /** `Content-Type` of the body. */
  type: string
  /** Made only when it is sent: a `304` costs a header comparison. */
  body: Body | (() => Body)
  /** Default 200; the health answers say 503 when what they describe is not up. */
  status?: 200 | 503
  /** Sent with the `304` too (a CSP, say). */
  headers?: Record<string, string>
}

/** `304` with no body while the client's `If-None-Match` still matches, else the body. */
export function conditional(c: Context, rep: Representation): Response {
  const headers = { ...rep.headers, etag: rep.etag, 'cache-control': CACHE_CONTROL }
  if (etagMatches(c.req.header('if-none-match'), rep.etag)) return c.body(null, 304, headers)
  const body = typeof rep.body === 'function' ? rep.body() : rep.body
  return c.body(body, rep.status ?? 200, { ...headers, 'content-type': rep.type })
}
