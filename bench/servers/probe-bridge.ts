/**
 * The shipped bridge (compiled JavaScript from bench/out/dist, configured by the environment like
 * main.js) with a probe inside: it watches every document the store publishes through
 * `store.subscribe` (the same hook the event stream uses) and notes when each instance's status
 * changed, so the runner can ask afterwards when an instance first showed a status.
 *
 * IPC: the runner sends {cmd:'firstSeen', keys:[{service, instance, status, after}]} and gets back
 * {firstSeen: (number|null)[], documents}; {cmd:'stop'} shuts it down.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import type { startBridge as StartBridge } from '../../src/bridge.js'
import type { loadConfig as LoadConfig } from '../../src/config/config.js'
import type { createLogger as CreateLogger } from '../../src/logger.js'

interface Query {
  service: string
  instance: string
  status: string
  /** Only changes at or after this epoch ms count. */
  after: number
}
type Message = { cmd: 'firstSeen'; keys: Query[] } | { cmd: 'stop' }

const dist = process.env.BRIDGE_DIST ?? ''
const load = async <T>(file: string): Promise<T> =>
  (await import(pathToFileURL(join(dist, file)).href)) as T

const { startBridge } = await load<{ startBridge: typeof StartBridge }>('bridge.js')
const { loadConfig } = await load<{ loadConfig: typeof LoadConfig }>('config/config.js')
const { createLogger } = await load<{ createLogger: typeof CreateLogger }>('logger.js')

const config = loadConfig(process.env)
const bridge = await startBridge({ config, logger: createLogger({ level: config.logLevel }) })
/** Per service, per instance: the status last published. */
const last = new Map<string, Map<string, string>>()
/** Every change of an instance's status, in order: [epoch ms, service, instance, status]. */
const changes: [number, string, string, string][] = []
let documents = 0
bridge.store.subscribe(({ rendered }) => {
  const at = performance.timeOrigin + performance.now()
  documents++
  // O(instances) per document, a small share of what judging and serializing it cost.
  for (const s of rendered.doc.services) {
    let seen = last.get(s.name)
    if (!seen) last.set(s.name, (seen = new Map<string, string>()))
    for (const i of s.instances) {
      if (seen.get(i.id) !== i.status) {
        seen.set(i.id, i.status)
        changes.push([at, s.name, i.id, i.status])
      }
    }
  }
})

function firstSeen(keys: readonly Query[]): (number | null)[] {
  const byKey = new Map<string, [number, string][]>()
  for (const [at, service, instance, status] of changes) {
    const k = `${service}\u0000${instance}`
    const list = byKey.get(k) ?? []
    list.push([at, status])
    byKey.set(k, list)
  }
  return keys.map((q) => {
    for (const [at, status] of byKey.get(`${q.service}\u0000${q.instance}`) ?? []) {
      if (at >= q.after && status === q.status) return at
    }
    return null
  })
}

process.on('message', (m: Message) => {
  if (m.cmd === 'firstSeen') {
    process.send?.({ firstSeen: firstSeen(m.keys), documents })
  } else {
    void bridge.stop().then(() => process.exit(0))
  }
})
process.on('SIGTERM', () => {
  void bridge.stop().then(() => process.exit(0))
})
