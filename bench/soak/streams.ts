/**
 * Stream clients of `GET /health/stream`, following deltas with the published client's parser
 * and follower (`SseParser`, `HealthFollower` -> `applyDelta`). Each connection lives a random
 * while, then the client either resumes (reconnects with `Last-Event-ID`, keeping its document)
 * or drops (forgets everything and starts over a little later). Once the load stops, every
 * client stays connected, so the verdict can compare its document with a fresh `GET /health`.
 */
import { HealthFollower } from '../../src/client/follow.js'
import { SseParser } from '../../src/client/sse.js'
import type { HealthDocument } from '../../src/client/types.js'

import { between, sleep, type Tally } from './tally.js'

export interface StreamClientState {
  readonly id: number
  connects: number
  resumes: number
  drops: number
  events: number
  deltas: number
  /** Whole documents received on a resume (the bridge could not continue from the id). */
  resumedWhole: number
  /** Protocol errors, bad documents: each one a problem for the verdict. */
  errors: string[]
  connected: boolean
  /** How the current or last connection began: `fresh`, or `resumed from <id>`. */
  lastStart: string
  document(): HealthDocument | null
}

export interface StreamsSpec {
  url: string
  count: number
  tally: Tally
  /** Load over: stay connected from now on. */
  settling: () => boolean
  /** The bridge is being stopped: end for good. */
  closing: () => boolean
}

const LIFETIME_MS: [number, number] = [5_000, 60_000]
const RESUME_SHARE = 0.6

export function runStreams(spec: StreamsSpec): {
  clients: StreamClientState[]
  done: Promise<void>
} {
  const clients: StreamClientState[] = []
  const one = async (id: number) => {
    const follower = new HealthFollower()
    let parser = new SseParser()
    let resume = false
    const c: StreamClientState = {
      id,
      connects: 0,
      resumes: 0,
      drops: 0,
      events: 0,
      deltas: 0,
      resumedWhole: 0,
      errors: [],
      connected: false,
      lastStart: 'not yet',
      document: () => follower.document,
    }
    clients.push(c)
    await sleep(Math.random() * 2000)
    while (!spec.closing()) {
      const ctrl = new AbortController()
      const headers: Record<string, string> =
        resume && parser.lastEventId !== '' ? { 'last-event-id': parser.lastEventId } : {}
      const start = performance.now()
      let res: Response
      try {
        res = await fetch(`${spec.url}/health/stream`, { headers, signal: ctrl.signal })
      } catch {
        spec.tally.record('stream', null, performance.now() - start)
        if (spec.closing()) break
        await sleep(500)
        continue
      }
      spec.tally.record('stream', res.status, performance.now() - start)
      if (res.status !== 200 || !res.body) {
        await res.arrayBuffer().catch(() => undefined)
        await sleep(1000)
        continue
      }
      c.connects++
      c.connected = true
      c.lastStart = headers['last-event-id'] ? `resumed from ${headers['last-event-id']}` : 'fresh'
      const lifetime = between(...LIFETIME_MS)
      const timer = setTimeout(() => {
        if (!spec.settling()) ctrl.abort()
      }, lifetime)
      const resumed = resume
      let first = true
      const decoder = new TextDecoder()
      try {
        const reader = res.body.getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
            if (first && resumed && ev.event === 'health') {
              c.resumedWhole++
              c.lastStart += ', got a whole document'
            }
            first = false
            c.events++
            if (ev.event === 'delta') c.deltas++
            try {
              follower.apply(ev)
            } catch (err) {
              c.errors.push(`client ${id}: ${(err as Error).message}`)
              follower.reset()
            }
          }
        }
      } catch {
        // Aborted by us, or the connection broke.
      } finally {
        clearTimeout(timer)
        c.connected = false
      }
      if (spec.closing()) break
      if (Math.random() < RESUME_SHARE || spec.settling()) {
        resume = true
        c.resumes++
        parser.reset()
      } else {
        resume = false
        c.drops++
        parser = new SseParser()
        follower.reset()
        await sleep(Math.random() * 3000)
      }
    }
  }
  return {
    clients,
    done: Promise.all(Array.from({ length: spec.count }, (_, i) => one(i))).then(() => undefined),
  }
}
