/** Heartbeat senders for the benches: instance layouts, realistic bodies, closed and open loops. */
import { Agent, request } from 'node:http'

export interface InstanceRef {
  service: string
  instance: string
}

/** n instances, `perService` to a service: svc-000/svc-000-00, ... in name order. */
export function layout(n: number, perService: number): InstanceRef[] {
  const width = Math.max(3, String(Math.ceil(n / perService)).length)
  return Array.from({ length: n }, (_, i) => {
    const service = `svc-${String(Math.floor(i / perService)).padStart(width, '0')}`
    return { service, instance: `${service}-${String(i % perService).padStart(2, '0')}` }
  })
}

/** What a client library sends: status, its own timestamp and a few details. */
export function heartbeatBody(ref: InstanceRef, i: number, status = 'healthy'): string {
  return JSON.stringify({
    service: ref.service,
    instance: ref.instance,
    status,
    timestamp: new Date().toISOString(),
    details: { queueDepth: i % 17, version: '1.4.2', uptimeSeconds: 3600 + i },
  })
}

export interface Answer {
  status: number
  /** The bridge's receivedAt + timeoutSeconds: the instant the instance times out. */
  deadline: number
  /** Request to response, ms. */
  ms: number
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

export function postHeartbeat(url: string, body: string): Promise<Answer> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/health`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => {
          const ms = performance.now() - t0
          if (res.statusCode !== 202) {
            reject(new Error(`heartbeat answered ${res.statusCode}: ${text.slice(0, 200)}`))
            return
          }
          const a = JSON.parse(text) as { receivedAt: string; timeoutSeconds: number }
          resolve({ status: 202, deadline: Date.parse(a.receivedAt) + a.timeoutSeconds * 1000, ms })
        })
      }
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** One heartbeat per instance, `concurrency` in flight (a closed loop: as fast as it answers). */
export async function populate(
  url: string,
  refs: readonly InstanceRef[],
  concurrency = 32
): Promise<Answer[]> {
  const out = new Array<Answer>(refs.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < refs.length; i = next++) {
      const ref = refs[i]
      if (ref) out[i] = await postHeartbeat(url, heartbeatBody(ref, i))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return out
}

/**
 * One heartbeat per instance, instance i sent at start + i / rate, whether or not earlier ones
 * were answered (an open loop: arrivals do not slow down when the bridge does).
 */
export async function paced(
  url: string,
  refs: readonly InstanceRef[],
  perSecond: number
): Promise<{ answers: Answer[]; sendLagMs: number[]; seconds: number }> {
  const start = performance.now()
  const sendLagMs: number[] = []
  const pending: Promise<Answer>[] = []
  for (let i = 0; i < refs.length; i++) {
    const due = start + (i * 1000) / perSecond
    const wait = due - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    sendLagMs.push(performance.now() - due)
    const ref = refs[i]
    if (ref) pending.push(postHeartbeat(url, heartbeatBody(ref, i)))
  }
  const answers = await Promise.all(pending)
  return { answers, sendLagMs, seconds: (performance.now() - start) / 1000 }
}
