/**
 * The Docker events framing and parser: any chunking of the NDJSON stream gives the same events
 * as the whole; garbage is reported, never thrown; the buffer never passes its cap.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { LineSplitter, LineTooLongError } from '../../src/sources/docker/event-stream.js'
import { SUBSCRIBED_ACTIONS, parseEventLine } from '../../src/sources/docker/events.js'

import { fuzzParams } from './settings.js'

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`))

/** Events as the engine sends them, attributes (labels) with any text in them. */
const event = fc.record({
  Type: fc.constantFrom('container', 'network', 'image'),
  Action: fc.oneof(
    fc.constantFrom(...SUBSCRIBED_ACTIONS),
    fc.constantFrom(
      'health_status: healthy',
      'health_status: unhealthy',
      'exec_start: sh -c true',
      'exec_die'
    ),
    fc.string({ minLength: 1, maxLength: 20 })
  ),
  Actor: fc.record({
    ID: fc.oneof(hex(64), hex(12), fc.string({ maxLength: 20 })),
    Attributes: fc.dictionary(
      fc.string({ maxLength: 20 }),
      fc.string({ maxLength: 40, unit: 'grapheme' }),
      { maxKeys: 6 }
    ),
  }),
  scope: fc.constant('local'),
  time: fc.integer({ min: 0, max: 2_000_000_000 }),
  timeNano: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
})

/** Cuts `bytes` at the given points (any of them may split a UTF-8 sequence). */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p))
    from = p
  }
  return out
}

describe('Docker events stream', () => {
  it('gives the same events whatever the chunking, line endings or record separators', () => {
    const framing = fc.record({ crlf: fc.boolean(), rs: fc.boolean(), blank: fc.boolean() })
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 12 }),
        framing,
        fc.array(fc.nat(), { maxLength: 40 }),
        (events, f, cuts) => {
          const text = events
            .map(
              (e) =>
                `${f.rs ? '\u001e' : ''}${JSON.stringify(e)}${f.crlf ? '\r\n' : '\n'}${f.blank ? '\n' : ''}`
            )
            .join('')
          const splitter = new LineSplitter()
          const lines = chunk(Buffer.from(text, 'utf8'), cuts).flatMap((c) => splitter.push(c))
          expect(splitter.buffered).toBe(0)
          expect(lines).toEqual(events.map((e) => JSON.stringify(e)))
          expect(lines.map(parseEventLine)).toEqual(
            events.map((e) => parseEventLine(JSON.stringify(e)))
          )
        }
      ),
      fuzzParams(200)
    )
  })

  it('reports garbage, never throws it, and never holds more than its cap', () => {
    const CAP = 256
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.string({ unit: 'binary', maxLength: 100 }).map((s) => Buffer.from(s, 'utf8')),
      event.map((e) => Buffer.from(`${JSON.stringify(e)}\n`, 'utf8')),
      fc.constantFrom(
        Buffer.from('\n'),
        Buffer.from('{"Action":'),
        Buffer.from('\u001e'),
        Buffer.from([0xe2, 0x82])
      )
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const splitter = new LineSplitter(CAP)
        let sinceNewline = 0
        for (const p of pieces) {
          // The model: lengths of the lines this piece completes, and what stays pending.
          const segments = p
            .toString('latin1')
            .split('\n')
            .map((seg) => seg.length)
          const completed = segments.slice(0, -1)
          if (completed.length > 0) completed[0] = (completed[0] ?? 0) + sinceNewline
          const pending = segments.length === 1 ? sinceNewline + p.length : (segments.at(-1) ?? 0)
          const tooLong = Math.max(pending, ...completed) > CAP
          let lines: string[]
          try {
            lines = splitter.push(p)
          } catch (err) {
            expect(err).toBeInstanceOf(LineTooLongError)
            expect(tooLong).toBe(true)
            // Nothing is kept after the cap is passed: the caller reconnects.
            expect(splitter.buffered).toBe(0)
            sinceNewline = 0
            continue
          }
          expect(tooLong).toBe(false)
          sinceNewline = pending
          expect(splitter.buffered).toBe(pending)
          expect(splitter.buffered).toBeLessThanOrEqual(CAP)
          for (const line of lines) {
            const result = parseEventLine(line)
            expect(typeof result.ok).toBe('boolean')
            // `why` never quotes the line (attributes hold labels); short lines may match by chance.
            if (!result.ok && line.length >= 16) expect(result.why).not.toContain(line.slice(0, 16))
          }
        }
      }),
      fuzzParams(200)
    )
  })

  it('parses any string without throwing', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          event.map((e) => JSON.stringify(e))
        ),
        (line) => {
          const result = parseEventLine(line)
          if (result.ok) expect(SUBSCRIBED_ACTIONS).toContain(result.event.action)
        }
      ),
      fuzzParams(1000)
    )
  })
})
