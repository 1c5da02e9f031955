/**
 * The bridge's HTTP app in process, for tests that go through `app.request()`: a store, the app,
 * a logger whose lines the test can read, and the requests tests keep writing (a heartbeat, a
 * GET). The store is closed when the test finishes, also when it fails.
 */
import { onTestFinished } from 'vitest'

import { createApp, type AppDeps } from '../../src/app.js'
import type { Clock } from '../../src/clock.js'
import { loadConfig, type Config } from '../../src/config/config.js'
import type { Logger } from '../../src/logger.js'
import { HealthStore } from '../../src/store/health-store.js'

import { memoryLogger } from './log-sink.js'

export interface TestAppOptions {
  /** Default: the wall clock (fake timers move it too). */
  clock?: Clock
  /** Log level of the captured logger; default `debug`. */
  level?: string
  /** Extra dependencies of `createApp` (metrics, the stream hub). */
  deps?: (store: HealthStore, config: Config, logger: Logger) => Partial<AppDeps>
  /** `caller`: the caller closes the store (an app made in a beforeAll, outside any test). */
  close?: 'with-the-test' | 'caller'
}

export interface TestApp {
  app: ReturnType<typeof createApp>
  store: HealthStore
  config: Config
  logger: Logger
  /** Every log line, parsed; and as written. */
  lines: Record<string, unknown>[]
  raw: string[]
  /** `POST /health` with a JSON body (a string is sent as is). */
  post: (body: unknown, headers?: Record<string, string>) => Response | Promise<Response>
  get: (path: string, headers?: Record<string, string>) => Response | Promise<Response>
}

/** A bridge app for `env` (DOCKER=off unless given), closed when the test ends. */
export function testApp(env: Record<string, string> = {}, opts: TestAppOptions = {}): TestApp {
  const config = loadConfig({ DOCKER: 'off', ...env })
  const { logger, lines, raw } = memoryLogger(opts.level ?? 'debug')
  const clock = opts.clock ?? { now: () => Date.now() }
  const store = new HealthStore({ config, clock, logger, version: 't' })
  if (opts.close !== 'caller') {
    onTestFinished(() => {
      store.close()
    })
  }
  const app = createApp({ store, config, logger, clock, ...opts.deps?.(store, config, logger) })
  return {
    app,
    store,
    config,
    logger,
    lines,
    raw,
    post: (body, headers = {}) =>
      app.request('/health', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: (path, headers = {}) => app.request(path, { headers }),
  }
}
