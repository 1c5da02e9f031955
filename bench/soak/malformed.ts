/**
 * Malformed and odd requests, drawn from the fuzzers' own generators (test/fuzz/): heartbeat
 * bodies the contract refuses, any Content-Type, Authorization and If-None-Match, query strings
 * on every route that takes one, and raw requests whose Content-Length lies. Bodies the contract
 * would accept are left out, so the malformed load never registers instances of its own. Each
 * answer must be one of the codes the fuzz property for that surface allows.
 */
import { connect } from 'node:net'

import fc from 'fast-check'

import { heartbeatRequestSchema } from '../../src/wire/heartbeat.js'
import { heartbeatBody, validHeartbeat } from '../../test/fuzz/arbitraries.js'
import {
  accept,
  authorization,
  contentType,
  headersOf,
  ifNoneMatch,
  lengthHeader,
  query,
  QUERY_CASES,
  RAW_ALLOWED,
  rawRequest,
  rawRequestLine,
} from '../../test/fuzz/http-arbitraries.js'

import { sleep, type Tally } from './tally.js'

type Body = string | Uint8Array<ArrayBuffer>

/** A body the bridge would accept as a heartbeat (those are not malformed). */
function acceptable(body: Body): boolean {
  try {
    const text = typeof body === 'string' ? body : new TextDecoder('utf-8').decode(body)
    // The bridge skips a byte-order mark, as JSON readers may (RFC 8259, 8.1).
    return heartbeatRequestSchema.safeParse(JSON.parse(text.replace(/^\ufeff/, ''))).success
  } catch {
    return false
  }
}

const refusedBody = heartbeatBody.filter((b) => !acceptable(b))
// No token is configured: these only have to be refused or ignored, never trusted.
const auth = authorization('soak-not-a-token-0123456789', 'soak-not-a-read-token-0123')

interface Request {
  kind: string
  allowed: readonly number[]
  send(url: string, tally: Tally): Promise<number | null>
}

function httpRequest(
  kind: string,
  allowed: readonly number[],
  path: string,
  init: RequestInit
): Request {
  return {
    kind,
    allowed,
    send: async (url, tally) => (await tally.fetch(kind, url + path, init))?.status ?? null,
  }
}

/** One raw request on its own connection; 0 when the server closed without an answer. */
function rawSend(kind: string, bytes: Buffer): Request['send'] {
  return (url, tally) => {
    const { hostname, port } = new URL(url)
    const start = performance.now()
    return new Promise((resolve) => {
      const socket = connect(Number(port), hostname)
      let received = ''
      socket.setEncoding('latin1')
      socket.setTimeout(40_000, () => socket.destroy())
      socket.on('data', (d: string) => (received += d))
      socket.on('error', () => undefined)
      socket.on('close', () => {
        // The first answer decides; a second one (pipelined garbage) is the parser's 400.
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0)
        tally.record(kind, status, performance.now() - start)
        resolve(status)
      })
      socket.on('connect', () => {
        socket.end(bytes)
      })
    })
  }
}

const ALLOWED_POST = [400, 413, 415]

/** The mix, by weight: each a generator of ready-to-send requests. */
const MIX: { weight: number; arbitrary: fc.Arbitrary<Request> }[] = [
  {
    weight: 35,
    arbitrary: refusedBody.map((body) =>
      httpRequest('mal-body', [400, 413], '/health', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
    ),
  },
  {
    weight: 15,
    arbitrary: fc.tuple(contentType, auth, refusedBody).map(([type, a, body]) =>
      httpRequest('mal-headers', ALLOWED_POST, '/health', {
        method: 'POST',
        headers: headersOf({ 'content-type': type, authorization: a }),
        body,
      })
    ),
  },
  {
    weight: 10,
    arbitrary: fc.tuple(auth, ifNoneMatch, accept).map(([a, inm, acc]) =>
      httpRequest('mal-read-headers', [200, 304, 503], '/health', {
        headers: headersOf({ authorization: a, 'if-none-match': inm, accept: acc }),
      })
    ),
  },
  {
    weight: 25,
    arbitrary: fc
      .tuple(fc.constantFrom(...QUERY_CASES), query)
      .map(([c, q]) => httpRequest('mal-query', c.allowed, `${c.path}?${q}`, { method: c.method })),
  },
  {
    weight: 15,
    arbitrary: fc.tuple(rawRequestLine, lengthHeader, validHeartbeat).map(([line, length, hb]) => {
      // An invalid service name: framing is what is fuzzed here, and nothing may register.
      const body = Buffer.from(JSON.stringify({ ...hb, service: 'raw fuzz' }), 'utf8')
      // Reads apart: their 503 is a health answer, a write's would be an error.
      const kind = line.startsWith('GET') ? 'mal-raw-read' : 'mal-raw'
      return {
        kind,
        allowed: [0, ...RAW_ALLOWED.map(Number)],
        send: rawSend(kind, rawRequest(line, length, body)),
      }
    }),
  },
]

export interface MalformedResult {
  sent: number
  /** `kind status` -> count, for answers outside what the fuzz property allows. */
  unexpected: Map<string, number>
}

export interface MalformedSpec {
  url: string
  perSecond: number
  seed: number
  tally: Tally
  stopped: () => boolean
}

const BATCH = 500
const IN_FLIGHT = 32

/** Paced to `perSecond`, at most 32 in flight; generated in batches from a moving seed. */
export async function runMalformed(spec: MalformedSpec): Promise<MalformedResult> {
  const result: MalformedResult = { sent: 0, unexpected: new Map() }
  if (spec.perSecond <= 0) return result
  const mix = fc.oneof(...MIX)
  let batch: Request[] = []
  let batchNo = 0
  const inFlight = new Set<Promise<void>>()
  const gapMs = 1000 / spec.perSecond
  let next = performance.now()
  while (!spec.stopped()) {
    if (batch.length === 0) batch = fc.sample(mix, { numRuns: BATCH, seed: spec.seed + batchNo++ })
    const req = batch.pop()
    if (req) {
      const p = req.send(spec.url, spec.tally).then((status) => {
        const s = status ?? -1
        if (!req.allowed.includes(s)) {
          const key = `${req.kind} ${status === null ? 'network-error' : s}`
          result.unexpected.set(key, (result.unexpected.get(key) ?? 0) + 1)
        }
      })
      const tracked = p.finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
      result.sent++
    }
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight)
    next += gapMs
    const wait = next - performance.now()
    if (wait > 1) await sleep(wait)
    // Behind by more than a second (a loaded machine): do not burst to catch up.
    else if (wait < -1000) next = performance.now()
  }
  await Promise.all(inFlight)
  return result
}
