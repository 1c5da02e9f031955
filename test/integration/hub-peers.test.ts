/**
 * Several hosts over real HTTP: worker bridges and a hub started as a user would (startBridge,
 * the same code `npm start` runs), heartbeats to each, the same instance id on two hosts; a
 * worker bridge killed and restarted, a peer with a wrong token, a peer that answers garbage,
 * one that goes silent, and an https peer trusted through PEER_CA_FILE.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig, type Env } from '../../src/config/config.js'
import type { HealthDocument, PeerSourceView } from '../../src/wire/health-document.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

const READ_TOKEN = 'read-token-of-the-workers-0123'
const STALE = '3s'

const running = new Set<RunningBridge>()
const servers = new Set<Server>()
afterEach(async () => {
  for (const b of [...running]) await b.stop()
  running.clear()
  for (const s of [...servers]) await new Promise((r) => s.close(r))
  servers.clear()
})

async function bridge(env: Env, logger = memoryLogger('warn').logger): Promise<RunningBridge> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'off',
    HEARTBEAT_TIMEOUT: '60s',
    ...env,
  })
  const b = await startBridge({ config, logger })
  running.add(b)
  return b
}

async function stop(b: RunningBridge): Promise<void> {
  await b.stop()
  running.delete(b)
}

async function beat(b: RunningBridge, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${b.url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(202)
}

async function doc(b: RunningBridge): Promise<HealthDocument> {
  return (await (await fetch(`${b.url}/health`)).json()) as HealthDocument
}

async function peer(b: RunningBridge, name: string): Promise<PeerSourceView | undefined> {
  return (await doc(b)).bridge.sources.peers.find((p) => p.name === name)
}

async function listen(server: Server): Promise<string> {
  servers.add(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('a hub following its peers', () => {
  it('merges what each host sees, keeps the same instance id on two hosts apart, and addresses both', async () => {
    const w1 = await bridge({ BRIDGE_NAME: 'worker-1', READ_TOKEN })
    const w2 = await bridge({ BRIDGE_NAME: 'worker-2', READ_TOKEN })
    const hub = await bridge({
      BRIDGE_NAME: 'hub',
      PEERS: `worker-1=${w1.url},worker-2=${w2.url}`,
      PEER_TOKEN: READ_TOKEN,
      PEER_STALE_AFTER: STALE,
    })
    await beat(w1, { service: 'query-worker', instance: 'clp-query-worker-1' })
    await beat(w2, {
      service: 'query-worker',
      instance: 'clp-query-worker-1',
      error: 'cannot reach the queue',
    })
    // Heartbeats to the hub work too: a service reporting there is one of the hub's own.
    await beat(hub, { service: 'webui' })

    const merged = await waitFor(
      async () => {
        const d = await doc(hub)
        const worker = d.services.find((s) => s.name === 'query-worker')
        return worker?.instances.length === 2 ? d : null
      },
      { what: 'both workers at the hub' }
    )
    expect(merged.bridge.name).toBe('hub')
    expect(merged.bridge.sources.peers.map((p) => [p.name, p.state])).toEqual([
      ['worker-1', 'following'],
      ['worker-2', 'following'],
    ])
    const worker = merged.services.find((s) => s.name === 'query-worker')
    expect(worker?.status).toBe('degraded')
    expect(worker?.instances.map((i) => [i.id, i.host, i.status])).toEqual([
      ['clp-query-worker-1@worker-1', 'worker-1', 'healthy'],
      ['clp-query-worker-1@worker-2', 'worker-2', 'unhealthy'],
    ])
    expect(merged.services.find((s) => s.name === 'webui')?.instances[0]?.host).toBe('hub')

    const one = await fetch(
      `${hub.url}/health?service=query-worker&instance=clp-query-worker-1@worker-2&format=text`
    )
    expect(one.status).toBe(503)
    expect(await one.text()).toBe(
      'query-worker/clp-query-worker-1@worker-2 unhealthy: cannot reach the queue\n'
    )

    // A change on a worker reaches the hub's document.
    await beat(w2, { service: 'query-worker', instance: 'clp-query-worker-1' })
    await waitFor(
      async () =>
        (await doc(hub)).services.find((s) => s.name === 'query-worker')?.status === 'healthy',
      {
        what: 'the recovery at the hub',
      }
    )
  })

  it('keeps an idle peer following: its keep-alives come faster than PEER_STALE_AFTER', async () => {
    const w1 = await bridge({ BRIDGE_NAME: 'worker-1' })
    await beat(w1, { service: 'reducer' })
    const hub = await bridge({
      BRIDGE_NAME: 'hub',
      PEERS: `worker-1=${w1.url}`,
      PEER_STALE_AFTER: STALE,
    })
    await waitFor(async () => (await peer(hub, 'worker-1'))?.state === 'following', {
      what: 'following',
    })
    // Three times PEER_STALE_AFTER with nothing changing: never lost, never reconnected.
    const states = new Set<string>()
    const until = Date.now() + 9000
    while (Date.now() < until) {
      states.add((await peer(hub, 'worker-1'))?.state ?? 'absent')
      await new Promise((r) => setTimeout(r, 250))
    }
    expect([...states]).toEqual(['following'])
    expect((await doc(hub)).services[0]?.status).toBe('healthy')
  }, 30_000)

  it('turns a killed worker bridge unknown within PEER_STALE_AFTER, and recovers when it is back', async () => {
    const w1 = await bridge({ BRIDGE_NAME: 'worker-1', READ_TOKEN })
    const port = w1.port
    const hub = await bridge({
      BRIDGE_NAME: 'hub',
      PEERS: `worker-1=${w1.url}`,
      PEER_TOKEN: READ_TOKEN,
      PEER_STALE_AFTER: STALE,
    })
    await beat(w1, { service: 'compression-worker', instance: 'cw-1' })
    await waitFor(async () => (await doc(hub)).status === 'healthy', { what: 'a healthy hub' })

    await stop(w1)
    const lost = await waitFor(
      async () => {
        const d = await doc(hub)
        return d.services[0]?.status === 'unknown' ? d : null
      },
      { what: 'the worker unknown at the hub', timeoutMs: 15_000 }
    )
    expect(lost.status).toBe('unknown')
    expect(lost.services[0]?.instances[0]?.message).toMatch(
      /^host worker-1 unreachable since \d\d:\d\d:\d\dZ$/
    )
    const p = lost.bridge.sources.peers[0]
    expect(p?.state).toBe('disconnected')
    expect(p?.unreachableSince).not.toBeNull()
    expect((await fetch(`${hub.url}/health`)).status).toBe(503)

    // The worker comes back (same address, fresh process: it lost its heartbeats).
    const again = await bridge({ BRIDGE_NAME: 'worker-1', READ_TOKEN, PORT: String(port) })
    await beat(again, { service: 'compression-worker', instance: 'cw-1' })
    await waitFor(
      async () => {
        const d = await doc(hub)
        return d.status === 'healthy' && d.bridge.sources.peers[0]?.state === 'following'
      },
      { what: 'recovery at the hub', timeoutMs: 40_000 }
    )
  })

  it('shows a peer with a wrong token as disconnected, 401, without the token anywhere', async () => {
    const w1 = await bridge({ BRIDGE_NAME: 'worker-1', READ_TOKEN })
    const log = memoryLogger('debug')
    const wrong = 'the-wrong-token-0123456789'
    const hub = await bridge(
      {
        BRIDGE_NAME: 'hub',
        PEERS: `worker-1=${w1.url}`,
        PEER_TOKEN: wrong,
        PEER_STALE_AFTER: STALE,
      },
      log.logger
    )
    const p = await waitFor(
      async () => {
        const x = await peer(hub, 'worker-1')
        return x?.detail?.startsWith('401') ? x : null
      },
      { what: 'the 401 at the hub' }
    )
    expect(p.state).toBe('disconnected')
    expect(p.detail).toBe('401 unauthorized')
    const body = await (await fetch(`${hub.url}/health`)).text()
    expect(body).not.toContain(wrong)
    expect(log.raw.join('\n')).not.toContain(wrong)
    expect((await doc(hub)).status).toBe('degraded')
  })

  it('refuses a peer whose BRIDGE_NAME is not the name PEERS gives it', async () => {
    const w1 = await bridge({ BRIDGE_NAME: 'worker-1' })
    const hub = await bridge({ BRIDGE_NAME: 'hub', PEERS: `w1=${w1.url}`, PEER_STALE_AFTER: STALE })
    const p = await waitFor(async () => (await peer(hub, 'w1'))?.detail, { what: 'the refusal' })
    expect(p).toBe(
      "the peer's BRIDGE_NAME is worker-1, but PEERS calls it w1: use one name for both"
    )
  })

  it('refuses garbage from a peer with a reason, and keeps the hub serving', async () => {
    const answers: Record<string, string> = {
      '/garbage': 'retry: 1000\n\nevent: health\ndata: {"status":"fine"\n\n',
      '/wrong-shape': 'event: health\ndata: {"status":"healthy","services":7}\n\n',
      '/early-delta': 'event: delta\ndata: {}\n\n',
    }
    const junk = createHttpServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      const body = answers[path.replace(/\/health\/stream$/, '')]
      if (body === undefined) {
        res.writeHead(404).end()
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(body)
    })
    const at = await listen(junk)
    const hub = await bridge({
      BRIDGE_NAME: 'hub',
      PEERS: `a=http://${at}/garbage,b=http://${at}/wrong-shape,c=http://${at}/early-delta,d=http://${at}/nothing`,
      PEER_STALE_AFTER: STALE,
    })
    const peers = await waitFor(
      async () => {
        const d = await doc(hub)
        return d.bridge.sources.peers.every((x) => x.detail !== null)
          ? d.bridge.sources.peers
          : null
      },
      { what: 'every junk peer refused' }
    )
    expect(Object.fromEntries(peers.map((x) => [x.name, x.detail]))).toEqual({
      a: 'invalid health event: not JSON',
      b: expect.stringMatching(/^invalid document: /) as unknown,
      c: 'a delta before any document',
      d: '404',
    })
    expect(peers.every((x) => x.state === 'disconnected' || x.state === 'connecting')).toBe(true)
    const d = await doc(hub)
    expect(d.services).toEqual([])
    expect((await fetch(`${hub.url}/health/live`)).status).toBe(200)
  })

  it('notices a peer that goes silent without closing within PEER_STALE_AFTER', async () => {
    const w1 = await bridge({ BRIDGE_NAME: 'worker-1' })
    await beat(w1, { service: 'reducer' })
    // A proxy that passes the stream up to the whole document, then holds the connection open
    // and silent: a half-open connection, as a dead NAT or a frozen host leaves it.
    const proxy = createHttpServer((req, res) => {
      void fetch(`${w1.url}/health/stream`).then(async (up) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const reader = up.body?.getReader()
        req.on('close', () => void reader?.cancel())
        const decoder = new TextDecoder()
        let seen = ''
        while (!/event: health\n[^]*\n\n/.test(seen)) {
          const chunk = await reader?.read()
          if (!chunk || chunk.done) return
          seen += decoder.decode(chunk.value, { stream: true })
          res.write(chunk.value)
        }
      })
    })
    const at = await listen(proxy)
    const hub = await bridge({
      BRIDGE_NAME: 'hub',
      PEERS: `worker-1=http://${at}`,
      PEER_STALE_AFTER: STALE,
    })
    await waitFor(async () => (await doc(hub)).services[0]?.status === 'healthy', {
      what: 'the first document through the proxy',
    })
    const p = await waitFor(
      async () => {
        const x = await peer(hub, 'worker-1')
        return x?.detail === 'no event or keep-alive for 3s' ? x : null
      },
      { what: 'the silence noticed', timeoutMs: 10_000 }
    )
    expect(p.state).not.toBe('following')
    await waitFor(async () => (await doc(hub)).services[0]?.status === 'unknown', {
      what: 'unknown after silence',
    })
  })

  it('follows an https peer trusted through PEER_CA_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-tls-'))
    const openssl = (...args: string[]) =>
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem'
    )
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'peer.key',
      '-out',
      'peer.csr'
    )
    const ext = join(dir, 'ext.cnf')
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${ext}`])
    openssl(
      'x509',
      '-req',
      '-in',
      'peer.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      ext,
      '-out',
      'peer.pem'
    )

    const w1 = await bridge({ BRIDGE_NAME: 'worker-1' })
    await beat(w1, { service: 'api-server' })
    // TLS in front of the worker bridge, as a reverse proxy would terminate it.
    const tls = createHttpsServer(
      { key: readFileSync(join(dir, 'peer.key')), cert: readFileSync(join(dir, 'peer.pem')) },
      (req, res) => {
        void fetch(`${w1.url}${req.url ?? '/'}`, { headers: { accept: 'text/event-stream' } }).then(
          async (up) => {
            res.writeHead(up.status, {
              'content-type': up.headers.get('content-type') ?? 'text/plain',
            })
            const reader = up.body?.getReader()
            req.on('close', () => void reader?.cancel())
            for (;;) {
              const chunk = await reader?.read()
              if (!chunk || chunk.done) break
              res.write(chunk.value)
            }
            res.end()
          }
        )
      }
    )
    const at = await listen(tls)

    const untrusted = await bridge({
      BRIDGE_NAME: 'hub-a',
      PEERS: `worker-1=https://${at}`,
      PEER_STALE_AFTER: STALE,
    })
    const refused = await waitFor(async () => (await peer(untrusted, 'worker-1'))?.detail, {
      what: 'a TLS refusal',
    })
    expect(refused).toMatch(/certificate/i)

    const trusted = await bridge({
      BRIDGE_NAME: 'hub-b',
      PEERS: `worker-1=https://${at}`,
      PEER_CA_FILE: join(dir, 'ca.pem'),
      PEER_STALE_AFTER: STALE,
    })
    await waitFor(async () => (await doc(trusted)).services[0]?.name === 'api-server', {
      what: 'the https peer followed',
    })
    expect((await peer(trusted, 'worker-1'))?.state).toBe('following')
  })

  it('is ready once every peer synced, or was tried for PEER_STALE_AFTER', async () => {
    const w1 = await bridge({ BRIDGE_NAME: 'worker-1' })
    const hub = await bridge({
      BRIDGE_NAME: 'hub',
      PEERS: `worker-1=${w1.url},gone=http://127.0.0.1:9`,
      PEER_STALE_AFTER: STALE,
    })
    const started = Date.now()
    const first = await fetch(`${hub.url}/health/ready`)
    if (Date.now() - started < 1500) expect(first.status).toBe(503)
    await waitFor(async () => (await fetch(`${hub.url}/health/ready`)).status === 200, {
      what: 'ready',
    })
    const ready = (await (await fetch(`${hub.url}/health/ready`)).json()) as {
      sources: { peers: PeerSourceView[] }
    }
    const [worker, gone] = ready.sources.peers
    expect(worker).toMatchObject({ name: 'worker-1', state: 'following' })
    // Between two retries it is connecting again; it is never following.
    expect(gone?.name).toBe('gone')
    expect(gone?.state).not.toBe('following')
    expect(gone?.detail).toMatch(/ECONNREFUSED/)
  })
})
