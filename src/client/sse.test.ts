import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { sseEvent } from '../stream/sse-event.js'

import { SseParser } from './sse.js'

describe('SseParser', () => {
  it('parses events, ids, retry and comments as EventSource does', () => {
    const p = new SseParser()
    const events = p.push(
      'retry: 3000\n\n: keep-alive\n\nid: W/"abc"\nevent: health\ndata: {"a":1}\n\ndata: line1\ndata:line2\n\n'
    )
    expect(events).toEqual([
      { event: 'health', data: '{"a":1}', id: 'W/"abc"' },
      // No `event:` means "message"; ids persist; one leading space is dropped, not more.
      { event: 'message', data: 'line1\nline2', id: 'W/"abc"' },
    ])
    expect(p.retryMs).toBe(3000)
    expect(p.lastEventId).toBe('W/"abc"')
  })

  it('handles CRLF and CR line ends, also when a CRLF is split across chunks', () => {
    const p = new SseParser()
    expect(p.push('data: a\r')).toEqual([])
    expect(p.push('\n\r\n')).toEqual([{ event: 'message', data: 'a', id: '' }])
    expect(p.push('data: b\r\rdata: c\n\n')).toEqual([
      { event: 'message', data: 'b', id: '' },
      { event: 'message', data: 'c', id: '' },
    ])
  })

  it('ignores a retry that is not a number and an id holding NUL', () => {
    const p = new SseParser()
    p.push('retry: soon\nid: a\0b\ndata: x\n\n')
    expect(p.retryMs).toBeNull()
    expect(p.lastEventId).toBe('')
  })

  it('reads what the bridge writes, however the bytes are chunked', () => {
    const events = [
      { event: 'health', id: 'W/"1"', data: '{"status":"healthy"}' },
      { event: 'health', id: 'W/"2"', data: 'two\nlines' },
    ]
    const wire =
      sseEvent({ retry: 3000 }) + ': keep-alive\n\n' + events.map((e) => sseEvent(e)).join('')
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: wire.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b)
        const p = new SseParser()
        const got = []
        let from = 0
        for (const at of [...points, wire.length]) {
          got.push(...p.push(wire.slice(from, at)))
          from = at
        }
        expect(got).toEqual(events)
        expect(p.retryMs).toBe(3000)
      })
    )
  })
})
