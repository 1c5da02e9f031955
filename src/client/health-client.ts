/**
 * `createHealthClient()`: a connection bound once. It remembers the last snapshot, so every
 * `fetchHealth()` revalidates with its ETag and a React `useQuery` gets the very same document
 * object back while nothing changed (no re-render).
 */
import { fetchHealth, type ConnectionOptions, type HealthSnapshot } from './fetch-health.js'
import { subscribeHealth, type HealthSubscription, type SubscribeOptions } from './subscribe.js'

export interface HealthClient {
  /** `GET /health`, with `If-None-Match` from the last answer; on `304` the last snapshot. */
  fetchHealth(opts?: { signal?: AbortSignal }): Promise<HealthSnapshot>
  /** `GET /health/stream`; see `subscribeHealth`. */
  subscribeHealth(handlers: Omit<SubscribeOptions, keyof ConnectionOptions>): HealthSubscription
  /** The last snapshot fetched, if any. */
  readonly last: HealthSnapshot | null
}

export function createHealthClient(connection: ConnectionOptions): HealthClient {
  let last: HealthSnapshot | null = null
  return {
    async fetchHealth(opts = {}) {
      const snapshot = await fetchHealth({ ...connection, ...opts, previous: last })
      last = snapshot
      return snapshot
    },
    subscribeHealth(handlers) {
      return subscribeHealth({ ...connection, ...handlers })
    },
    get last() {
      return last
    },
  }
}
