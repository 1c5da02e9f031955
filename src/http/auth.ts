/**
 * Who may speak, and who may read.
 *
 * Heartbeats: `HEARTBEAT_TOKEN` (one shared bearer token) and/or `HEARTBEAT_TOKENS_FILE`
 * (one token per service). A request is authenticated before its body is read (401), then the
 * parsed `service` is authorized against the token (403), so a token bound to one service can
 * never report for another. Optionally the sender's address is checked too (403).
 *
 * Reads: `READ_TOKEN`, as `Bearer <token>` or, so a browser can open the status page, as the
 * password of HTTP Basic auth. Every comparison hashes both sides and runs in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

import type { MiddlewareHandler } from 'hono'

import type { ServiceTokens } from '../config/tokens-file.js'
import type { ContainerObservation } from '../model/observations.js'

import { HttpError, unauthorized } from './errors.js'

/** Tokens are compared as SHA-256 digests, so a constant-time compare leaks no length either. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** The token of an `Authorization: Bearer <token>` header, or null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  return match?.[1] ?? null
}

/** The password of an `Authorization: Basic base64(user:password)` header, or null. */
export function basicPassword(header: string | undefined): string | null {
  if (header === undefined) return null
  const match = /^Basic[ \t]+([A-Za-z0-9+/]+=*)[ \t]*$/i.exec(header)
  if (!match?.[1]) return null
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon === -1 ? null : decoded.slice(colon + 1)
}

export const forbidden = (message: string) => new HttpError(403, 'forbidden', message)

// ---- heartbeats ------------------------------------------------------------------------------

/** Who a heartbeat request speaks as, once its token is known. */
export type Speaker =
  | { readonly kind: 'open' } // no heartbeat auth is configured
  | { readonly kind: 'shared' } // HEARTBEAT_TOKEN
  | { readonly kind: 'service'; readonly service: string } // a token of HEARTBEAT_TOKENS_FILE

export interface HeartbeatAuthConfig {
  heartbeatToken: string | null
  serviceTokens: ServiceTokens
}

export interface HeartbeatAuth {
  /** 401 unless the header carries a known token; runs before the body is read. */
  authenticate(header: string | undefined): Speaker
  /** 403 unless `speaker` may report for `service`. */
  authorize(speaker: Speaker, service: string): void
}

/**
 * The policy, in full:
 * - nothing configured: anyone may report for any service;
 * - a service listed in HEARTBEAT_TOKENS_FILE: only its own token(s), not HEARTBEAT_TOKEN;
 * - any other service: HEARTBEAT_TOKEN if it is set, else nobody (403).
 */
export function createHeartbeatAuth(config: HeartbeatAuthConfig): HeartbeatAuth {
  const candidates: { digest: Buffer; speaker: Speaker }[] = []
  if (config.heartbeatToken !== null) {
    candidates.push({ digest: digest(config.heartbeatToken), speaker: { kind: 'shared' } })
  }
  for (const [service, tokens] of config.serviceTokens) {
    for (const t of tokens)
      candidates.push({ digest: digest(t), speaker: { kind: 'service', service } })
  }
  const enabled = candidates.length > 0

  return {
    authenticate(header) {
      if (!enabled) return { kind: 'open' }
      const token = bearerToken(header)
      if (token === null) throw unauthorized('heartbeats need "Authorization: Bearer <token>"')
      const given = digest(token)
      let found: Speaker | null = null
      // No early exit: every candidate is compared, so timing says nothing about which matched.
      for (const c of candidates) {
        if (timingSafeEqual(given, c.digest) && found === null) found = c.speaker
      }
      if (found === null) throw unauthorized('the bearer token is not valid for heartbeats')
      return found
    },
    authorize(speaker, service) {
      if (speaker.kind === 'open') return
      const listed = config.serviceTokens.has(service)
      if (speaker.kind === 'service') {
        if (speaker.service === service) return
        throw forbidden(
          `this token belongs to service "${speaker.service}" (HEARTBEAT_TOKENS_FILE); it cannot report for "${service}"`
        )
      }
      if (!listed) return
      throw forbidden(
        `service "${service}" has its own token in HEARTBEAT_TOKENS_FILE; HEARTBEAT_TOKEN cannot report for it`
      )
    },
  }
}

/** Normalises an address for comparison: IPv4-mapped IPv6 as plain IPv4, IPv6 lowercase. */
export function normalizeAddress(address: string): string {
  const lower = address.toLowerCase()
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower
}

/**
 * CHECK_SENDER_ADDRESS: when `service` has containers the bridge knows and the heartbeat comes
 * from the address of a container of a *different* service, returns that service's name (the
 * caller answers 403). Unknown addresses (the host, another network, a NAT) are not judged.
 */
export function senderConflict(
  containers: readonly ContainerObservation[],
  service: string,
  address: string | null
): string | null {
  if (address === null) return null
  if (!containers.some((c) => c.service === service)) return null
  const sender = normalizeAddress(address)
  let other: string | null = null
  for (const c of containers) {
    if (!c.ips.some((ip) => normalizeAddress(ip) === sender)) continue
    // A container of the claimed service has this address: the claim holds.
    if (c.service === service) return null
    other ??= c.service
  }
  return other
}

// ---- reads -----------------------------------------------------------------------------------

/** Read endpoints that stay open with READ_TOKEN set. */
export const OPEN_READ_PATHS: ReadonlySet<string> = new Set([
  // Liveness must answer a bare probe (compose healthcheck, orchestrator).
  '/health/live',
  // The API description holds no state.
  '/openapi.json',
])

/**
 * READ_TOKEN for GET/HEAD: everything but OPEN_READ_PATHS (deny by default, so a new read
 * endpoint is protected without anyone remembering to). Accepts `Bearer <token>`, or HTTP Basic
 * auth with any user name and the token as password, so a browser can open the status page:
 * pages (Accept: text/html) get a Basic challenge, so the browser asks; API clients get Bearer.
 * OPTIONS (CORS preflights carry no credentials), POST and DELETE pass: heartbeat auth is theirs.
 */
export function readAuth(readToken: string | null): MiddlewareHandler {
  // Not configured: a pass-through, not one more async frame on every request.
  if (readToken === null) return (_c, next) => next()
  const expected = digest(readToken)
  return async (c, next) => {
    const method = c.req.method
    if ((method !== 'GET' && method !== 'HEAD') || OPEN_READ_PATHS.has(c.req.path)) {
      await next()
      return
    }
    const header = c.req.header('authorization')
    const given = bearerToken(header) ?? basicPassword(header)
    if (given === null || !timingSafeEqual(digest(given), expected)) {
      const page = (c.req.header('accept') ?? '').includes('text/html')
      throw new HttpError(
        401,
        'unauthorized',
        given === null
          ? 'reading needs "Authorization: Bearer <READ_TOKEN>"'
          : 'the token is not valid for reading',
        undefined,
        {
          'WWW-Authenticate': page
            ? 'Basic realm="health-bridge", charset="UTF-8"'
            : 'Bearer realm="health-bridge"',
        }
      )
    }
    await next()
  }
}
