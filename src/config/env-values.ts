/**
 * The values environment variables take: parsers for whole numbers, tokens, flags, peer lists.
 * Each rejects with a message that says what to write instead.
 */
import { hostname } from 'node:os'

import { z } from 'zod'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected a whole number from ${min} to ${max}`)

export const token = z
  .string()
  .min(16, 'must be at least 16 characters (use e.g. `openssl rand -hex 24`)')
  .max(512, 'must be at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')

const FLAG_VALUES = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'] as const
export const flag = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(FLAG_VALUES, { error: 'expected true or false' }))
  .transform((s) => s === 'true' || s === '1' || s === 'yes' || s === 'on')

export const BRIDGE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/

/** The machine's hostname, made into a valid BRIDGE_NAME (a hostname may be longer or dotted). */
export function defaultBridgeName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 64)
  return name === '' ? 'bridge' : name
}

export interface PeerConfig {
  /** The peer's BRIDGE_NAME as this hub calls it (`worker-1` in `worker-1=http://...`). */
  name: string
  /** Its base URL, e.g. `https://10.0.0.2:8080`, without a trailing slash. */
  url: string
}

/** `PEERS=worker-1=http://10.0.0.2:8080,worker-2=https://w2:8443`. */
export const peersSchema = z.string().transform((text, ctx): PeerConfig[] => {
  const peers: PeerConfig[] = []
  for (const item of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = item.indexOf('=')
    const name = eq === -1 ? '' : item.slice(0, eq).trim()
    const raw = eq === -1 ? '' : item.slice(eq + 1).trim()
    const problem = peerProblem(name, raw, peers)
    if (problem !== null) {
      // Quote the entry, but never a URL that carries credentials.
      const shown = /\/\/[^/]*@/.test(raw) ? name : item
      ctx.addIssue({ code: 'custom', message: `"${shown}": ${problem}` })
      return z.NEVER
    }
    peers.push({ name, url: raw.replace(/\/+$/, '') })
  }
  return peers
})

function peerProblem(name: string, raw: string, earlier: readonly PeerConfig[]): string | null {
  const expected = 'expected comma-separated name=url, e.g. worker-1=http://10.0.0.2:8080'
  if (name === '' || raw === '') return expected
  if (!BRIDGE_NAME_PATTERN.test(name))
    return `the name must be 1-64 characters: letters, digits, "_", "." or "-"`
  if (earlier.some((p) => p.name === name)) return `the name ${name} is listed twice`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return `not a URL (${expected})`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return 'only http:// and https:// peers'
  // A token in a URL ends up in logs and in the document's peers list: PEER_TOKEN carries it.
  if (url.username !== '' || url.password !== '') return 'no credentials in the URL; use PEER_TOKEN'
  if (url.search !== '' || url.hash !== '') return 'the URL must not have a query or a fragment'
  return null
}

/** `CORS_ORIGINS=https://webui.example:4000,http://localhost:4000`, or `*`. */
export const corsOriginsSchema = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '')
  )
  .pipe(
    z.array(
      z
        .string()
        .regex(
          /^(\*|https?:\/\/[^/\s]+)$/,
          'expected comma-separated origins like https://webui.example:4000, or *'
        )
    )
  )
