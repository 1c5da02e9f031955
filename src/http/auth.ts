import { createHash, timingSafeEqual } from 'node:crypto'

import { unauthorized } from './errors.js'

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** Compares in constant time: both sides are hashed first, so their lengths leak nothing. */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

/** The token of an `Authorization: Bearer <token>` header, or null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  return match?.[1] ?? null
}

/**
 * Throws 401 unless the request carries one of `accepted`. Every failure is a 401 (never the
 * 400 some bearer middlewares send for a malformed header): the contract says 401.
 */
export function requireBearer(header: string | undefined, accepted: readonly string[], what: string): void {
  const token = bearerToken(header)
  if (token === null) {
    throw unauthorized(`${what} need "Authorization: Bearer <token>"`)
  }
  let ok = false
  // No early exit: every candidate is compared, so timing says nothing about which one matched.
  for (const expected of accepted) ok = tokensEqual(token, expected) || ok
  if (!ok) throw unauthorized(`the bearer token is not valid for ${what}`)
}
