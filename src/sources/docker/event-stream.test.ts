import { readFileSync } from 'node:fs'

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { LineSplitter, LineTooLongError } from './event-stream.js'

const fixture = readFileSync(
  new URL('../../../test/fixtures/docker/events-engine-20.10.ndjson', import.meta.url)
)
const fixtureLines = fixture
  .toString('utf8')
  .split('\n')
  .filter((l) => l !== '')

function feed(splitter: LineSplitter, ...chunks: (string | Buffer)[]): string[] {
  return chunks.flatMap((c) => splitter.push(typeof c === 'string' ? Buffer.from(c) : c))
}

describe('LineSplitter', () => {
  it.each([
    {
      desc: 'one event per chunk',
      chunks: ['{"a":1}\n', '{"b":2}\n'],
      lines: ['{"a":1}', '{"b":2}'],
    },
    {
      desc: 'two events in one chunk',
      chunks: ['{"a":1}\n{"b":2}\n'],
      lines: ['{"a":1}', '{"b":2}'],
    },
    { desc: 'an event split across chunks', chunks: ['{"a"', ':1}', '\n'], lines: ['{"a":1}'] },
    {
      desc: 'CRLF line ends',
      chunks: ['{"a":1}\r\n{"b":2}\r', '\n'],
      lines: ['{"a":1}', '{"b":2}'],
    },
    {
      desc: 'json-seq record separators',
      chunks: ['\x1e{"a":1}\n\x1e{"b"', ':2}\n'],
      lines: ['{"a":1}', '{"b":2}'],
    },
    { desc: 'blank lines', chunks: ['\n\n{"a":1}\n \n'], lines: ['{"a":1}'] },
    { desc: 'an unfinished last line is held back', chunks: ['{"a":1}\n{"b"'], lines: ['{"a":1}'] },
  ])('$desc', ({ chunks, lines }) => {
    expect(feed(new LineSplitter(), ...chunks)).toEqual(lines)
  })

  it('keeps a multi-byte character that is split between chunks', () => {
    const bytes = Buffer.from('{"name":"größe-✓"}\n')
    const cut = bytes.indexOf(0xe2) + 1 // inside the three bytes of ✓
    expect(feed(new LineSplitter(), bytes.subarray(0, cut), bytes.subarray(cut))).toEqual([
      '{"name":"größe-✓"}',
    ])
  })

  it('does not keep a reference to the caller’s chunk', () => {
    const splitter = new LineSplitter()
    const chunk = Buffer.from('{"a":')
    splitter.push(chunk)
    chunk.fill(0x20)
    expect(feed(splitter, '1}\n')).toEqual(['{"a":1}'])
  })

  it('reports how much of an unfinished line it holds', () => {
    const splitter = new LineSplitter()
    feed(splitter, '{"a":1}\n{"b"')
    expect(splitter.buffered).toBe(4)
  })

  it('refuses a line longer than its cap, also when it grows over several chunks', () => {
    const splitter = new LineSplitter(16)
    expect(() => feed(splitter, '0123456789', '0123456789')).toThrow(LineTooLongError)
    expect(splitter.buffered).toBe(0)
    expect(() => feed(new LineSplitter(16), `${'x'.repeat(17)}\n`)).toThrow(/exceeded 16 bytes/)
    expect(feed(new LineSplitter(16), `${'x'.repeat(16)}\n`)).toEqual(['x'.repeat(16)])
  })

  it('yields the recorded events whatever way the stream is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: fixture.length - 1 }), { maxLength: 60 }),
        (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), fixture.length]
          const splitter = new LineSplitter()
          const lines: string[] = []
          for (let i = 1; i < points.length; i++) {
            lines.push(...splitter.push(fixture.subarray(points[i - 1], points[i])))
          }
          expect(lines).toEqual(fixtureLines)
          expect(splitter.buffered).toBe(0)
        }
      ),
      { numRuns: 300 }
    )
  })
})
