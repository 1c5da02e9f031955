/**
 * Slow clients cannot pin the server: connections that never finish their headers, or trickle
 * their body, are closed by HEADERS_TIMEOUT / REQUEST_TIMEOUT, idle keep-alive connections by
 * KEEP_ALIVE_TIMEOUT, while the bridge keeps answering everyone else, and long-lived responses
 * (the event stream) are not cut. Short timeouts here, so the test takes seconds.
 */
import { connect, type Socket } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

let bridge: RunningBridge

beforeAll(async () => {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'off',
    HEADERS_TIMEOUT: '1s',
    REQUEST_TIMEOUT: '2s',
    KEEP_ALIVE_TIMEOUT: '1s',
  })
  bridge = await startBridge({ config, logger: memoryLogger('warn').logger })
})

afterAll(async () => {
  await bridge.stop()
})

interface Probe {
  socket: Socket
  received: string
  closed: boolean
  stop(): void
}

/** A raw connection that sends `head`, then `drip` every 100 ms until the server closes it. */
function slowClient(head: string, drip: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = connect(bridge.port, '127.0.0.1')
    const probe: Probe = { socket, received: '', closed: false, stop: () => undefined }
    let timer: NodeJS.Timeout | undefined
    probe.stop = () => {
      clearInterval(timer)
    }
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (probe.received += chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      probe.closed = true
      probe.stop()
    })
    socket.once('connect', () => {
      socket.write(head)
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip)
      }, 100)
      resolve(probe)
    })
    socket.once('error', reject)
  })
}

describe('Node server timeouts', () => {
  it('closes slow-header and slow-body connections while GET /health still answers', async () => {
    const slowHeaders = await Promise.all(
      Array.from({ length: 50 }, () =>
        slowClient('GET /health HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n')
      )
    )
    const slowBody = await Promise.all(
      Array.from({ length: 10 }, () =>
        slowClient(
          'POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
          ' '
        )
      )
    )
    try {
      // Everyone else is served meanwhile.
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${bridge.url}/health`)
        expect(res.status).toBe(200)
        await res.text()
      }
      await waitFor(() => slowHeaders.every((p) => p.closed), {
        what: 'slow-header connections closed',
      })
      await waitFor(() => slowBody.every((p) => p.closed), { what: 'slow-body connections closed' })
      // Node says why before closing: 408, the one status the bridge itself never sends.
      for (const p of [...slowHeaders, ...slowBody]) {
        expect(p.received === '' || p.received.startsWith('HTTP/1.1 408'), p.received).toBe(true)
      }
      expect((await fetch(`${bridge.url}/health/live`)).status).toBe(200)
    } finally {
      for (const p of [...slowHeaders, ...slowBody]) {
        p.stop()
        p.socket.destroy()
      }
    }
  })

  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT', async () => {
    const probe = await slowClient('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n', '')
    probe.stop()
    await waitFor(() => probe.received.includes('"status":"healthy"'), { what: 'the answer' })
    expect(probe.received).toMatch(/keep-alive: timeout=1/i)
    await waitFor(() => probe.closed, { what: 'the idle connection closed' })
  })

  it('does not cut a long-lived response: the event stream outlives REQUEST_TIMEOUT', async () => {
    const stream = await slowClient(
      'GET /health/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n',
      ''
    )
    stream.stop()
    try {
      await waitFor(() => stream.received.includes('\r\n\r\n'), { what: 'the stream to open' })
      expect(stream.received).toMatch(/^HTTP\/1\.1 200/)
      // A connection that trickles its body is cut by REQUEST_TIMEOUT (2 s); by then the stream,
      // opened earlier, must still be open.
      const slow = await slowClient(
        'POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
        ' '
      )
      await waitFor(() => slow.closed, { what: 'the slow body cut' })
      expect(stream.closed).toBe(false)
    } finally {
      stream.socket.destroy()
    }
  })
})
