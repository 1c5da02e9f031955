/**
 * `fetchHealth()`: one poll of `GET /health`, revalidated with the previous answer's ETag, so a
 * poll that changes nothing costs the bridge a header comparison and the network a `304`.
 * Uses only `fetch`: the same code runs in browsers and in Node 20+.
 */
import type { ErrorBody, HealthDocument } from './types.js'

export interface ConnectionOptions {
  /**
   * Where the bridge answers: `http://health-bridge:8080`, or a path such as `/health-bridge`
   * when a browser reaches it through the WebUI's own origin. `''` means this origin.
   */
  baseUrl: string
  /** Extra request headers, e.g. `{ authorization: 'Bearer <READ_TOKEN>' }`. */
  headers?: Record<string, string>
  /** The fetch to use; default `globalThis.fetch`. */
  fetch?: typeof fetch
}

/** One answer of `GET /health`. */
export interface HealthSnapshot {
  readonly doc: HealthDocument
  /** The weak ETag, to revalidate with; null if the bridge sent none. */
  readonly etag: string | null
  /** `200` (healthy or degraded) or `503` (anything worse), as the bridge answered. */
  readonly httpStatus: number
  /** True when the bridge answered `304` and `doc` is the previous snapshot's, unchanged. */
  readonly notModified: boolean
}

export interface FetchHealthOptions extends ConnectionOptions {
  /** The last snapshot: its ETag is sent as `If-None-Match`, and it is returned on `304`. */
  previous?: HealthSnapshot | null
  signal?: AbortSignal
}

/** A non-health answer from the bridge (or something that is not the bridge). */
export class HealthBridgeError extends Error {
  override readonly name: string = 'HealthBridgeError'
  /** From `Retry-After`, when the bridge asked the client to wait (429). */
  retryAfterMs: number | undefined
  constructor(
    message: string,
    /** The HTTP status, or 0 when the answer was not what the bridge sends. */
    readonly status: number,
    /** The bridge's `{ error, message, issues? }` body, when it sent one. */
    readonly body: ErrorBody | null = null
  ) {
    super(message)
  }
}

export function urlOf(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`
}

function fetchOf(opts: ConnectionOptions): typeof fetch {
  const f = opts.fetch ?? globalThis.fetch
  // Unbound `fetch` throws "Illegal invocation" in browsers.
  return (input, init) => f(input, init)
}

/** Reads an error answer as the bridge's error shape, if it is one. */
export async function errorOf(res: Response, what: string): Promise<HealthBridgeError> {
  let body: ErrorBody | null = null
  try {
    const parsed = (await res.json()) as unknown
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as ErrorBody).error === 'string' &&
      typeof (parsed as ErrorBody).message === 'string'
    ) {
      body = parsed as ErrorBody
    }
  } catch {
    // Not JSON: a proxy's error page, say. The status says enough.
  }
  const detail = body ? `${body.error}: ${body.message}` : `HTTP ${res.status}`
  return new HealthBridgeError(`${what} failed: ${detail}`, res.status, body)
}

/** Just enough of a check that a wrong `baseUrl` (an HTML page, say) fails loudly. */
export function asHealthDocument(value: unknown): HealthDocument {
  const v = value as Partial<HealthDocument> | null
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.status !== 'string' ||
    !Array.isArray(v.services)
  ) {
    throw new HealthBridgeError('the answer is not a health document; is baseUrl the bridge?', 0)
  }
  return v as HealthDocument
}

export async function fetchHealth(opts: FetchHealthOptions): Promise<HealthSnapshot> {
  const previous = opts.previous ?? null
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers }
  if (previous?.etag != null) headers['if-none-match'] = previous.etag
  const init: RequestInit = { headers }
  if (opts.signal) init.signal = opts.signal
  const res = await fetchOf(opts)(urlOf(opts.baseUrl, '/health'), init)
  if (res.status === 304) {
    // Only our own If-None-Match can bring a 304 to script (browsers answer their own
    // revalidations from their cache), but say so plainly if something else sent one.
    if (!previous)
      throw new HealthBridgeError(
        'GET /health answered 304 to a request without If-None-Match',
        304
      )
    return { ...previous, notModified: true }
  }
  // 503 is an answer too: the stack is unhealthy, and the body says why.
  if (res.status !== 200 && res.status !== 503) throw await errorOf(res, 'GET /health')
  let doc: HealthDocument
  try {
    doc = asHealthDocument(await res.json())
  } catch (err) {
    if (err instanceof HealthBridgeError) throw err
    throw new HealthBridgeError(
      'GET /health did not answer JSON; is baseUrl the bridge?',
      res.status
    )
  }
  return { doc, etag: res.headers.get('etag'), httpStatus: res.status, notModified: false }
}
