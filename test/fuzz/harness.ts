/** One bridge app per property, on a clock that stands still, so "state unchanged" is exact. */
import type { HealthStore } from '../../src/store/health-store.js'
import { errorBodySchema } from '../../src/wire/error.js'
import { T0 } from '../helpers/builders.js'
import { testApp } from '../helpers/app.js'

export const MAX_INSTANCES = 12

export interface FuzzApp {
  request(path: string, init?: RequestInit): Promise<Response>
  /** The exact bytes GET /health serves now. */
  doc(): Promise<string>
  store: HealthStore
  /** Log lines at error level or above (an unexpected exception is logged as `request failed`). */
  errors(): Record<string, unknown>[]
  close(): void
}

export async function fuzzApp(env: Record<string, string> = {}): Promise<FuzzApp> {
  const { app, store, lines } = testApp(
    { MAX_INSTANCES: String(MAX_INSTANCES), ...env },
    { clock: { now: () => T0 }, level: 'warn', close: 'caller' }
  )
  const auth: Record<string, string> =
    env.HEARTBEAT_TOKEN === undefined ? {} : { authorization: `Bearer ${env.HEARTBEAT_TOKEN}` }
  const readAuth: Record<string, string> =
    env.READ_TOKEN === undefined ? {} : { authorization: `Bearer ${env.READ_TOKEN}` }
  // Some state to protect: a healthy service, a failing one, and a job that finished.
  for (const body of [
    { service: 'api', instance: 'i1' },
    { service: 'worker', error: 'queue unreachable' },
    { service: 'db-table-creator', status: 'succeeded' },
  ]) {
    const res = await app.request('/health', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(body),
    })
    if (res.status !== 202) throw new Error(`seeding failed: ${res.status}`)
  }
  return {
    request: async (path, init) => app.request(path, init),
    doc: async () => (await app.request('/health', { headers: readAuth })).text(),
    store,
    errors: () => lines.filter((l) => typeof l.level === 'number' && l.level >= 50),
    close: () => {
      store.close()
    },
  }
}

/** Every error answer has the one documented shape. */
export async function expectErrorShape(res: Response): Promise<void> {
  const text = await res.text()
  const parsed = errorBodySchema.safeParse(JSON.parse(text))
  if (!parsed.success) throw new Error(`error body of ${res.status} has the wrong shape: ${text}`)
}
