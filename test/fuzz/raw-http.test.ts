/**
 * Raw HTTP on a real socket, where Content-Length can lie: shorter or longer than the body,
 * duplicated, negative, huge, alongside chunked encoding. Node's parser or the bridge refuses
 * (400/408/413/415, or the connection is closed); never a 5xx, never a crash, and the bridge
 * keeps answering afterwards.
 */
import { connect } from 'node:net'

import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { memoryLogger } from '../helpers/log-sink.js'

import { validHeartbeat } from './arbitraries.js'
import { lengthHeader, RAW_ALLOWED, rawRequest, rawRequestLine } from './http-arbitraries.js'
import { fuzzParams } from './settings.js'

let bridge: RunningBridge
let lines: Record<string, unknown>[]

beforeAll(async () => {
  const sink = memoryLogger('warn')
  lines = sink.lines
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'off',
    MAX_INSTANCES: '50',
    HEADERS_TIMEOUT: '1s',
    REQUEST_TIMEOUT: '1s',
  })
  bridge = await startBridge({ config, logger: sink.logger })
})
afterAll(async () => {
  await bridge.stop()
})

/** Sends `raw`, half-closes, and resolves with every status line the server wrote. */
function exchange(raw: Buffer): Promise<string[]> {
  return new Promise((resolve) => {
    const socket = connect(bridge.port, '127.0.0.1')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => (received += d))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      resolve([...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1] ?? ''))
    })
    socket.on('connect', () => {
      socket.end(raw)
    })
  })
}

describe('raw HTTP', () => {
  it('survives lying Content-Length and odd framing with documented answers only', async () => {
    await fc.assert(
      fc.asyncProperty(
        validHeartbeat,
        lengthHeader,
        rawRequestLine,
        async (hb, length, requestLine) => {
          const body = Buffer.from(JSON.stringify(hb), 'utf8')
          const raw = rawRequest(requestLine, length, body)
          const statuses = await exchange(raw)
          for (const s of statuses) expect(RAW_ALLOWED).toContain(s)
        }
      ),
      fuzzParams(150)
    )
    const res = await fetch(`${bridge.url}/health/live`)
    expect(res.status).toBe(200)
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([])
  })
})
