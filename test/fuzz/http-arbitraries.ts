/**
 * Generators for the HTTP surfaces around a body: Content-Type and Authorization headers, query
 * strings, and raw request framing with lying Content-Length. Shared by the fuzz properties
 * (test/fuzz/) and the soak's malformed load (bench/soak/malformed.ts), so both send the same
 * kinds of garbage.
 */
import fc from 'fast-check'

export const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/vnd.api+json',
    'application/merge-patch+json',
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    ' application/json ',
    ';',
    ''
  ),
  fc.string({ maxLength: 60 }),
  fc.constant(undefined)
)

/** Authorization values around two real tokens: right, nearly right, other schemes, junk. */
export function authorization(heartbeatToken: string, readToken: string) {
  return fc.oneof(
    fc.constantFrom(
      `Bearer ${heartbeatToken}`,
      `bearer ${heartbeatToken}`,
      `Bearer ${readToken}`,
      `Basic ${Buffer.from(`x:${readToken}`).toString('base64')}`,
      `Bearer  ${heartbeatToken} `,
      `Bearer ${heartbeatToken}x`,
      'Bearer bad token!',
      'Bearer',
      'Basic',
      heartbeatToken,
      ''
    ),
    fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
    fc.string({ maxLength: 80 }),
    fc.constant(undefined)
  )
}

export const ifNoneMatch = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('*', 'W/"x"', '"', 'W/', ',')
)

export const accept = fc.oneof(
  fc.constantFrom('text/html', 'application/json', '*/*'),
  fc.string({ maxLength: 30 })
)

/** Header values a Request can carry: no CR/LF/NUL, no characters beyond Latin-1. */
function headerSafe(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/g, '').trim()
}

/** The entries that are set, made safe for `fetch` / `Request`. */
export function headersOf(entries: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(entries)) {
    const safe = headerSafe(v)
    if (safe !== undefined) out[k] = safe
  }
  return out
}

const queryKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('service', 'instance', 'format', 'limit') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('servce', 'Service', 'service[]', '', '__proto__', 'constructor'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }
)
const queryValue = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('api', 'worker', 'i1', 'default', 'text', 'json', '10', '1000'),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      '0',
      '1001',
      '-1',
      '1e3',
      '%',
      '%zz',
      '%E0%A4%A',
      '%00',
      '..%2F',
      '%F0%9F%99%82',
      '+',
      'a b'
    ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 200, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 300 }) }
)

/** A query string, each part either percent-encoded or raw (the URL parser copes either way). */
export const query = fc
  .array(fc.tuple(queryKey, queryValue, fc.boolean(), fc.boolean()), { maxLength: 5 })
  .map((pairs) =>
    pairs
      .map(([k, v, enc, bare]) => {
        const kk = enc ? encodeURIComponent(k) : k
        if (bare) return kk
        return `${kk}=${enc ? encodeURIComponent(v) : v.replace(/[#&]/g, '')}`
      })
      .join('&')
  )

/** The routes that take a query string, and the codes each may answer. */
export const QUERY_CASES: readonly { method: string; path: string; allowed: readonly number[] }[] =
  [
    { method: 'GET', path: '/health', allowed: [200, 400, 404, 503] },
    { method: 'HEAD', path: '/health', allowed: [200, 400, 404, 503] },
    { method: 'GET', path: '/health/history', allowed: [200, 400, 404] },
    { method: 'GET', path: '/health/ready', allowed: [200, 503] },
    { method: 'GET', path: '/health/live', allowed: [200] },
    { method: 'DELETE', path: '/health', allowed: [204, 400, 404] },
  ]

/** How a raw request states its body's length: off by some bytes, a literal, twice, chunked, not. */
export const lengthHeader = fc.oneof(
  fc.record({ kind: fc.constant('delta' as const), delta: fc.integer({ min: -20, max: 20 }) }),
  fc.record({
    kind: fc.constant('literal' as const),
    value: fc.constantFrom('-1', 'abc', '1e3', '', '99999999999999999999', '0x10', ' 5', '5, 5'),
  }),
  fc.record({ kind: fc.constant('twice' as const), delta: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ kind: fc.constant('chunked' as const) }),
  fc.record({ kind: fc.constant('none' as const) })
)
export type LengthHeader = typeof lengthHeader extends fc.Arbitrary<infer T> ? T : never

export const rawRequestLine = fc.constantFrom(
  'POST /health',
  'DELETE /health?service=x',
  'GET /health'
)

/** Codes a raw request may get (or none: the connection is closed). */
export const RAW_ALLOWED = ['200', '202', '204', '400', '404', '408', '413', '415', '429', '503']

/** The bytes of one request with `body` framed as `length` says. */
export function rawRequest(requestLine: string, length: LengthHeader, body: Buffer): Buffer {
  const head = [
    `${requestLine} HTTP/1.1`,
    'Host: fuzz',
    'Content-Type: application/json',
    'Connection: close',
  ]
  if (length.kind === 'delta')
    head.push(`Content-Length: ${Math.max(0, body.length + length.delta)}`)
  if (length.kind === 'literal') head.push(`Content-Length: ${length.value}`)
  if (length.kind === 'twice')
    head.push(
      `Content-Length: ${body.length}`,
      `Content-Length: ${Math.max(0, body.length + length.delta)}`
    )
  if (length.kind === 'chunked')
    head.push('Transfer-Encoding: chunked', `Content-Length: ${body.length}`)
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body])
}
