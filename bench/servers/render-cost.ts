/**
 * How long one re-judge-and-render of the store takes with n heartbeat instances: the compiled
 * HealthStore alone (no HTTP), a new instance recorded, then `current()` timed. Prints one JSON
 * line {n, medianMs, p90Ms, bytes}. Usage: node --import tsx render-cost.ts <dist> <n>
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import type { loadConfig as LoadConfig } from '../../src/config/config.js'
import type { createLogger as CreateLogger } from '../../src/logger.js'
import type { HealthStore as Store } from '../../src/store/health-store.js'

const [dist = '', nArg = '1000'] = process.argv.slice(2)
const n = Number(nArg)
const load = async <T>(file: string): Promise<T> =>
  (await import(pathToFileURL(join(dist, file)).href)) as T
const { HealthStore } = await load<{ HealthStore: typeof Store }>('store/health-store.js')
const { loadConfig } = await load<{ loadConfig: typeof LoadConfig }>('config/config.js')
const { createLogger } = await load<{ createLogger: typeof CreateLogger }>('logger.js')

const config = loadConfig({ DOCKER: 'off', HEARTBEAT_TIMEOUT: '1h', MAX_INSTANCES: '1000000' })
const store = new HealthStore({
  config,
  clock: { now: () => Date.now() },
  logger: createLogger({ level: 'silent' }),
  version: 'bench',
})
const beat = (service: string, instance: string, i: number) =>
  store.recordHeartbeat({
    service,
    instance,
    reported: 'healthy',
    error: null,
    details: { queueDepth: i % 17, version: '1.4.2' },
    sentAt: Date.now(),
    remoteAddress: '127.0.0.1',
  })
const width = String(Math.ceil(n / 5)).length
for (let i = 0; i < n; i++) {
  const service = `svc-${String(Math.floor(i / 5)).padStart(Math.max(3, width), '0')}`
  beat(service, `${service}-${i % 5}`, i)
}
store.current()
const times: number[] = []
for (let k = 0; k < 30; k++) {
  beat('svc-extra', `extra-${k}`, k)
  const t = performance.now()
  store.current()
  times.push(performance.now() - t)
}
times.sort((a, b) => a - b)
const bytes = store.current().body.length
store.close()
process.stdout.write(`${JSON.stringify({ n, medianMs: times[15], p90Ms: times[27], bytes })}\n`)
