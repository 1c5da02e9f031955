/**
 * Pollers, as the WebUI and compose healthchecks poll: most revalidate `GET /health` with
 * `If-None-Match` (304 until something drawn changed), some ask for one service, some for its
 * plain-text line (`format=text`, what `curl -f` reads).
 */
import { between, sleep, type Tally } from './tally.js'

export interface PollersSpec {
  url: string
  count: number
  intervalMinMs: number
  intervalMaxMs: number
  tally: Tally
  /** Services worth asking about: those heartbeats registered, and the compose project's. */
  services: () => readonly string[]
  stopped: () => boolean
}

export function runPollers(spec: PollersSpec): Promise<void> {
  const pick = () => {
    const list = spec.services()
    return list[Math.floor(Math.random() * list.length)]
  }
  const one = async (i: number) => {
    let etag: string | null = null
    const serviceTags = new Map<string, string>()
    await sleep(Math.random() * spec.intervalMaxMs)
    while (!spec.stopped()) {
      const service = pick()
      const r = i % 10
      if (r < 6 || service === undefined) {
        const res = await spec.tally.fetch('poll', `${spec.url}/health`, {
          headers: etag === null ? {} : { 'if-none-match': etag },
        })
        etag = res?.headers.get('etag') ?? etag
      } else if (r < 9) {
        const tag = serviceTags.get(service)
        const res = await spec.tally.fetch(
          'poll-service',
          `${spec.url}/health?service=${encodeURIComponent(service)}`,
          { headers: tag === undefined ? {} : { 'if-none-match': tag } }
        )
        const next = res?.headers.get('etag')
        if (next) serviceTags.set(service, next)
      } else {
        await spec.tally.fetch(
          'poll-text',
          `${spec.url}/health?service=${encodeURIComponent(service)}&format=text`
        )
      }
      await sleep(between(spec.intervalMinMs, spec.intervalMaxMs))
    }
  }
  return Promise.all(Array.from({ length: spec.count }, (_, i) => one(i))).then(() => undefined)
}
