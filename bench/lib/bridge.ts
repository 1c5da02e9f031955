/**
 * The bridge under test, as shipped: `node bench/out/dist/main.js` (compiled from src/ by the
 * runner), configured only through its environment, in its own process.
 */
import { join } from 'node:path'

import { BRIDGE_DIST, BRIDGE_MAIN, SERVERS_DIR } from './paths.js'
import { freePort, spawnServer, type ChildServer } from './proc.js'

export interface BridgeProcessOptions {
  name: string
  env?: Record<string, string>
  /** Write a V8 CPU profile into this directory when the process exits. */
  cpuProfDir?: string
  /** Wait for /health/ready to answer 200 (the Docker source has synced), not only /health/live. */
  waitReady?: boolean
  readyTimeoutMs?: number
}

/** Defaults for heartbeat-only benches: no engine, statuses that do not expire mid-run. */
export const HEARTBEAT_ONLY_ENV: Readonly<Record<string, string>> = {
  DOCKER: 'off',
  HEARTBEAT_TIMEOUT: '1h',
  MAX_INSTANCES: '100000',
  LOG_LEVEL: 'info',
}

export async function startBridgeProcess(opts: BridgeProcessOptions): Promise<ChildServer> {
  const port = await freePort()
  const nodeArgs = [
    ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
    BRIDGE_MAIN,
  ]
  return spawnServer({
    name: opts.name,
    nodeArgs,
    env: { ...HEARTBEAT_ONLY_ENV, ...opts.env, HOST: '127.0.0.1', PORT: String(port) },
    port,
    readyPath: opts.waitReady ? '/health/ready' : '/health/live',
    readyStatus: 200,
    ...(opts.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: opts.readyTimeoutMs }),
  })
}

export interface InstanceRef {
  service: string
  instance: string
}

/** n heartbeat instances, `perService` to a service: svc-000/svc-000-0 ... */
export function instanceLayout(n: number, perService = 5): InstanceRef[] {
  const out: InstanceRef[] = []
  const width = String(Math.ceil(n / perService)).length
  for (let i = 0; i < n; i++) {
    const service = `svc-${String(Math.floor(i / perService)).padStart(Math.max(3, width), '0')}`
    out.push({ service, instance: `${service}-${i % perService}` })
  }
  return out
}

/** A realistic heartbeat body: status, sender timestamp and a few details, as a client sends it. */
export function heartbeatBody(ref: InstanceRef, i: number): string {
  return JSON.stringify({
    service: ref.service,
    instance: ref.instance,
    status: 'healthy',
    timestamp: new Date().toISOString(),
    details: { queueDepth: i % 17, version: '1.4.2', uptimeSeconds: 3600 + i },
  })
}

export interface HeartbeatAnswer {
  status: number
  receivedAt: string
  timeoutSeconds: number
}

/** Sends one heartbeat per instance, `concurrency` at a time; fails on any non-202. */
export async function populate(
  url: string,
  refs: readonly InstanceRef[],
  concurrency = 16
): Promise<HeartbeatAnswer[]> {
  const answers: HeartbeatAnswer[] = new Array<HeartbeatAnswer>(refs.length)
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      const ref = refs[i]
      if (ref === undefined) return
      answers[i] = await postHeartbeat(url, heartbeatBody(ref, i))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return answers
}

export async function postHeartbeat(url: string, body: string): Promise<HeartbeatAnswer> {
  const res = await fetch(`${url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  })
  const text = await res.text()
  if (res.status !== 202) throw new Error(`heartbeat answered ${res.status}: ${text.slice(0, 300)}`)
  const parsed = JSON.parse(text) as { receivedAt: string; timeoutSeconds: number }
  return {
    status: res.status,
    receivedAt: parsed.receivedAt,
    timeoutSeconds: parsed.timeoutSeconds,
  }
}

export interface Snapshot {
  status: number
  etag: string | null
  body: string
}

export async function getHealth(url: string, path = '/health'): Promise<Snapshot> {
  const res = await fetch(url + path)
  return { status: res.status, etag: res.headers.get('etag'), body: await res.text() }
}

/**
 * The shipped bridge with a probe inside (bench/servers/probe-bridge.ts): the same compiled code,
 * plus the time at which each instance's status changed in the documents the store published.
 */
export async function startProbeBridge(opts: {
  name: string
  env?: Record<string, string>
  waitReady?: boolean
  readyTimeoutMs?: number
}): Promise<ProbeBridge> {
  const port = await freePort()
  const server = await spawnServer({
    name: opts.name,
    nodeArgs: ['--import', 'tsx', join(SERVERS_DIR, 'probe-bridge.ts')],
    env: { ...HEARTBEAT_ONLY_ENV, ...opts.env, HOST: '127.0.0.1', PORT: String(port), BRIDGE_DIST },
    port,
    readyPath: opts.waitReady ? '/health/ready' : '/health/live',
    readyStatus: 200,
    ipc: true,
    ...(opts.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: opts.readyTimeoutMs }),
  })
  return {
    ...server,
    firstSeen: (keys) =>
      new Promise((resolve, reject) => {
        server.child.once('message', (m) => {
          resolve(m as { firstSeen: (number | null)[]; documents: number })
        })
        server.child.once('exit', () => {
          reject(new Error(`${opts.name} exited before answering`))
        })
        server.child.send({ cmd: 'firstSeen', keys })
      }),
  }
}

export interface StatusQuery {
  service: string
  instance: string
  status: string
  /** Only changes at or after this epoch ms count. */
  after: number
}

export interface ProbeBridge extends ChildServer {
  /** When (epoch ms) each instance first showed the status, at or after its `after`; null if never. */
  firstSeen(
    keys: readonly StatusQuery[]
  ): Promise<{ firstSeen: (number | null)[]; documents: number }>
}
