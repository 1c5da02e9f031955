/**
 * Heartbeat senders: each one instance of a `soak-svc-N` service, beating every 1-5 s. Now and
 * then a sender changes its word (healthy <-> an error), so statuses, ETags and stream deltas
 * keep moving; a failure lasts a few heartbeats. What the bridge last accepted from each sender (a 202) is its last word, which
 * the verdict compares with the final document.
 */
import { between, sleep, type Tally } from './tally.js'

export type Word = 'healthy' | 'unhealthy'

export interface SenderState {
  service: string
  instance: string
  /** The last word the bridge answered 202 to; null before the first. */
  lastWord: Word | null
  /** The last heartbeat got no answer twice: the bridge may or may not have heard it. */
  uncertain: boolean
}

export const SOAK_PREFIX = 'soak-svc-'
/** Chance, per heartbeat, that a sender in error recovers. */
const RECOVER = 0.2
export const SOAK_ERROR = 'soak: simulated dependency failure'

export interface SendersSpec {
  url: string
  count: number
  services: number
  intervalMinMs: number
  intervalMaxMs: number
  flip: number
  tally: Tally
  /** Services the bridge has accepted a heartbeat for (pollers ask only about those). */
  known: Set<string>
  stopped: () => boolean
}

export function runSenders(spec: SendersSpec): { states: SenderState[]; done: Promise<void> } {
  const states: SenderState[] = Array.from({ length: spec.count }, (_, i) => ({
    service: `${SOAK_PREFIX}${i % spec.services}`,
    instance: `inst-${i}`,
    lastWord: null,
    uncertain: false,
  }))
  const one = async (s: SenderState) => {
    let word: Word = 'healthy'
    let seq = 0
    await sleep(Math.random() * spec.intervalMaxMs)
    while (!spec.stopped()) {
      // Failures are short: about 5 % of the senders are in error at any time with flip 0.01.
      if (word === 'healthy' ? Math.random() < spec.flip : Math.random() < RECOVER)
        word = word === 'healthy' ? 'unhealthy' : 'healthy'
      const body = {
        service: s.service,
        instance: s.instance,
        ...(word === 'unhealthy' ? { error: SOAK_ERROR } : {}),
        details: { seq: seq++, queueDepth: seq % 7 },
      }
      const res = await spec.tally.fetch('heartbeat', `${spec.url}/health`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (res?.status === 202) {
        s.lastWord = word
        s.uncertain = false
        spec.known.add(s.service)
      } else if (res === null) {
        s.uncertain = true
      }
      await sleep(between(spec.intervalMinMs, spec.intervalMaxMs))
    }
  }
  return { states, done: Promise.all(states.map(one)).then(() => undefined) }
}
