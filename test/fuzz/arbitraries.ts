/** Generators for the input surfaces: heartbeat bodies (valid, nearly valid, junk) and more. */
import fc from 'fast-check'

import { INSTANCE_NAME_PATTERN, SERVICE_NAME_PATTERN } from '../../src/wire/names.js'

/** A few names, so heartbeats hit the same instances again (updates) as well as new ones. */
export const serviceName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('api', 'worker', 'db-table-creator', 'q.sched_1') },
  { weight: 1, arbitrary: fc.stringMatching(SERVICE_NAME_PATTERN) }
)
export const instanceName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('default', 'i1', 'i2', '3f2a9c1b7d4e') },
  { weight: 1, arbitrary: fc.stringMatching(INSTANCE_NAME_PATTERN) }
)

const isoTimestamp = fc
  .date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('2200-01-01T00:00:00Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString())

/** Heartbeats the contract accepts (within the default limits). */
export const validHeartbeat = fc.record(
  {
    service: serviceName,
    instance: instanceName,
    status: fc.constantFrom('healthy', 'unhealthy', 'succeeded', 'failed'),
    error: fc.oneof(
      fc.constant(null),
      fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' })
    ),
    timestamp: fc.oneof(isoTimestamp, fc.integer({ min: 0, max: 8.64e15 })),
    details: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), {
      maxKeys: 5,
    }),
  },
  { requiredKeys: ['service'] }
)

/** Nested `depth` levels of objects or arrays. */
function nested(depth: number, array: boolean): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = array ? [v] : { k: v }
  return v
}

/** One field's value replaced by something of the wrong shape or size. */
const badValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ minLength: 60, maxLength: 2000 }),
  fc.constantFrom('', ' ', '../etc', 'a b', '\u0000', '🙂', 'ǅ', '\ud800', '-x', '.x'),
  fc.double(),
  fc.integer({ min: 0, max: 40 }).chain((d) => fc.boolean().map((a) => nested(d, a)))
)

/** Valid heartbeats with one thing wrong: a field of the wrong type or size, an unknown key. */
export const nearValidHeartbeat = fc.oneof(
  fc
    .tuple(
      validHeartbeat,
      fc.constantFrom('service', 'instance', 'status', 'error', 'timestamp', 'details'),
      badValue
    )
    .map(([hb, key, value]) => ({ ...hb, [key]: value })),
  fc
    .tuple(validHeartbeat, fc.string({ minLength: 1, maxLength: 12 }), badValue)
    .map(([hb, key, value]) => ({
      ...hb,
      [key]: value,
    })),
  fc.tuple(validHeartbeat, fc.integer({ min: 1000, max: 20_000 })).map(([hb, n]) => ({
    ...hb,
    details: { big: 'x'.repeat(n) },
  })),
  fc
    .tuple(validHeartbeat, fc.integer({ min: 1020, max: 1030 }))
    .map(([hb, n]) => ({ ...hb, error: 'e'.repeat(n) }))
)

/** A body as bytes: JSON of any of the above, random JSON, random text, random bytes. */
export const heartbeatBody: fc.Arbitrary<Uint8Array<ArrayBuffer> | string> = fc.oneof(
  { weight: 3, arbitrary: validHeartbeat.map((v) => JSON.stringify(v)) },
  { weight: 5, arbitrary: nearValidHeartbeat.map((v) => JSON.stringify(v)) },
  {
    // Nested thousands deep: built as text, since JSON.stringify itself would overflow.
    weight: 1,
    arbitrary: fc
      .tuple(validHeartbeat, fc.integer({ min: 0, max: 9000 }), fc.constantFrom('[]', '{"k":}'))
      .map(([hb, depth, pair]) => {
        const [open, close] = pair === '[]' ? ['[', ']'] : ['{"k":', '}']
        const deep = `${open.repeat(depth)}1${close.repeat(depth)}`
        return `${JSON.stringify(hb).slice(0, -1)},"details":{"deep":${deep}}}`
      }),
  },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 500 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20_000 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(validHeartbeat, fc.nat()).map(([hb, cut]) => {
      const text = JSON.stringify(hb)
      return text.slice(0, cut % (text.length + 1))
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '"x"',
      '{"service":"a"',
      '\ufeff{"service":"a"}'
    ),
  }
)
