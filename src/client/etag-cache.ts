/**
 * `etagCache()`: cheap polling for openapi-fetch clients (`client.use(etagCache())`). It sends
 * the last ETag of each GET URL as `If-None-Match`, and turns the bridge's `304` back into the
 * answer it stands for, which openapi-fetch would otherwise hand over as
 * `{ data: undefined, error: "" }`.
 *
 * A browser needs none of this for plain polling: the bridge says `Cache-Control: no-cache`,
 * so the browser revalidates with the ETag by itself and gives script the cached `200`. This is
 * for Node (server-side rendering, scripts, tests), or wherever the HTTP cache is off.
 *
 * Typed structurally, so the client stays free of dependencies: the object fits openapi-fetch's
 * `Middleware`, and anything else with the same `onRequest`/`onResponse` shape.
 */

export interface EtagCacheMiddleware {
  onRequest(params: { request: Request }): undefined
  onResponse(params: { request: Request; response: Response }): Promise<Response | undefined>
  /** Forgets every remembered answer. */
  clear(): void
}

interface Remembered {
  etag: string
  status: number
  headers: Headers
  body: string
}

export function etagCache(opts: { maxEntries?: number } = {}): EtagCacheMiddleware {
  const maxEntries = opts.maxEntries ?? 64
  const cache = new Map<string, Remembered>()
  // The requests this middleware made conditional: only their 304s are ours to answer.
  const ours = new WeakSet<Request>()

  return {
    onRequest({ request }) {
      if (request.method !== 'GET' || request.headers.has('if-none-match')) return undefined
      const hit = cache.get(request.url)
      if (hit) {
        request.headers.set('if-none-match', hit.etag)
        ours.add(request)
      }
      return undefined
    },

    async onResponse({ request, response }) {
      if (request.method !== 'GET') return undefined
      const hit = cache.get(request.url)
      if (response.status === 304 && hit && ours.has(request)) {
        // Used again: move it to the end, so the least recently used goes first.
        cache.delete(request.url)
        cache.set(request.url, hit)
        return new Response(hit.body, { status: hit.status, headers: hit.headers })
      }
      const etag = response.headers.get('etag')
      // The health answers (503 included: an unhealthy document is an answer) and anything
      // else revalidatable; never a stream, which has no ETag.
      if (etag === null || (response.status !== 200 && response.status !== 503)) return undefined
      const body = await response.clone().text()
      cache.delete(request.url)
      cache.set(request.url, { etag, status: response.status, headers: response.headers, body })
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value ?? '')
      return undefined
    },

    clear() {
      cache.clear()
    },
  }
}
