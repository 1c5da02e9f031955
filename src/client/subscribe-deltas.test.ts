/**
 * subscribeHealth against a real HTTP server that sends the stream's two event types: callers
 * get whole documents whatever the server sends, a delta with no document to apply it to makes
 * the client start over, and a resumed connection may continue with deltas.
 */
import { afterEach, describe, expect, it } from 'vitest'

import {
  deltaOf,
  sampleDocument,
  serviceNamed,
  startScriptedSseServer,
  type ScriptedSseServer,
} from '../../test/helpers/sse-server.js'
import { waitFor } from '../../test/helpers/wait-for.js'

import { applyDelta } from './delta.js'
import { StreamProtocolError } from './follow.js'
import { subscribeHealth, type HealthMeta, type HealthSubscription } from './subscribe.js'
import type { HealthDocument } from './types.js'

let server: ScriptedSseServer | undefined
let sub: HealthSubscription | undefined
afterEach(async () => {
  sub?.close()
  await server?.close()
  sub = server = undefined
})

async function follow() {
  server = await startScriptedSseServer()
  const docs: { doc: HealthDocument; meta: HealthMeta }[] = []
  const errors: unknown[] = []
  sub = subscribeHealth({
    baseUrl: server.url,
    onHealth: (doc, meta) => docs.push({ doc, meta }),
    onState: (state, info) => {
      if (state === 'reconnecting') errors.push(info.error)
    },
    initialRetryMs: 20,
    random: () => 0,
  })
  return { server, docs, errors }
}

const statusesOf = (doc: HealthDocument | undefined) =>
  Object.fromEntries((doc?.services ?? []).map((s) => [s.name, s.status]))

describe('subscribeHealth with event: delta', () => {
  it('applies deltas and hands over whole documents, in order', async () => {
    const { server, docs } = await follow()
    const first = sampleDocument({ api: 'healthy', db: 'healthy', old: 'healthy' })
    const conn = await server.connection(0)
    conn.send({ event: 'health', id: 'W/"1"', data: first })
    const broken = { ...first, status: 'unhealthy' as const }
    const d1 = deltaOf(broken, [serviceNamed('db', 'unhealthy')], ['old'])
    conn.send({ event: 'delta', id: 'W/"2"', data: d1 })
    conn.comment('keep-alive')
    // An event type this client does not know is ignored, as EventSource would.
    conn.send({ event: 'ping', data: '{}' })
    const d2 = deltaOf(broken, [serviceNamed('cache', 'starting')])
    conn.send({ event: 'delta', id: 'W/"3"', data: d2 })
    await waitFor(() => docs.length === 3, { what: 'three documents' })

    expect(docs.map((d) => d.meta.etag)).toEqual(['W/"1"', 'W/"2"', 'W/"3"'])
    expect(docs[0]?.meta.delta).toBeNull()
    expect(docs[1]?.meta.delta?.removed).toEqual(['old'])
    expect(statusesOf(docs[1]?.doc)).toEqual({ api: 'healthy', db: 'unhealthy' })
    expect(docs[2]?.doc.status).toBe('unhealthy')
    expect(statusesOf(docs[2]?.doc)).toEqual({ api: 'healthy', cache: 'starting', db: 'unhealthy' })
    // Exactly what applying the deltas in order gives (services sorted by name, as served).
    expect(docs[2]?.doc).toEqual(applyDelta(applyDelta(first, d1), d2))
    expect(docs[2]?.doc.services.map((s) => s.name)).toEqual(['api', 'cache', 'db'])
  })

  it('treats a delta before any health event as a protocol error and starts over', async () => {
    const { server, docs, errors } = await follow()
    const doc = sampleDocument({ api: 'healthy' })
    const first = await server.connection(0)
    first.send({ event: 'delta', id: 'W/"x"', data: deltaOf(doc, []) })
    await first.closed
    expect(errors[0]).toBeInstanceOf(StreamProtocolError)
    expect(String(errors[0])).toMatch(/delta came before any event: health/)
    // The next connection asks for a whole document: no Last-Event-ID.
    const second = await server.connection(1)
    expect(second.lastEventId).toBeUndefined()
    second.send({ event: 'health', id: 'W/"1"', data: doc })
    await waitFor(() => docs.length === 1, { what: 'the document' })
    expect(docs[0]?.doc).toEqual(doc)
  })

  it('keeps its document across a reconnect, so a resumed stream can go on with deltas', async () => {
    const { server, docs } = await follow()
    const doc = sampleDocument({ api: 'healthy', db: 'healthy' })
    const first = await server.connection(0)
    first.send({ event: 'health', id: 'W/"1"', data: doc })
    first.send({
      event: 'delta',
      id: 'W/"2"',
      data: deltaOf(doc, [serviceNamed('db', 'degraded')]),
    })
    await waitFor(() => docs.length === 2)
    first.end()
    const second = await server.connection(1)
    expect(second.lastEventId).toBe('W/"2"')
    second.send({
      event: 'delta',
      id: 'W/"3"',
      data: deltaOf(doc, [serviceNamed('api', 'starting')]),
    })
    await waitFor(() => docs.length === 3)
    expect(statusesOf(docs[2]?.doc)).toEqual({ api: 'starting', db: 'degraded' })
  })

  it('does not let a garbage delta corrupt the document: it starts over instead', async () => {
    const { server, docs, errors } = await follow()
    const first = await server.connection(0)
    first.send({ event: 'health', id: 'W/"1"', data: sampleDocument({ api: 'healthy' }) })
    first.send({ event: 'delta', id: 'W/"2"', data: '{"services":"all of them"}' })
    await first.closed
    expect(String(errors[0])).toMatch(/not a health delta/)
    expect(docs).toHaveLength(1)
    const second = await server.connection(1)
    expect(second.lastEventId).toBeUndefined()
  })
})
