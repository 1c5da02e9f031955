/**
 * The outside observer of the timeout bench, a process of its own: one SSE client on
 * GET /health/stream (deltas, as the WebUI follows it) that only stamps and keeps the bytes, and
 * pollers of ?service=&instance= that poll each target tightly around its deadline. Parsing
 * waits until the runner asks, so nothing delays a stamp. Driven over IPC (see `Message`).
 */
import { Agent, request } from 'node:http'

import { SseParser } from '../../src/client/sse.js'

export interface Target {
  service: string
  instance: string
  /** Epoch ms at which the instance times out. */
  deadline: number
  /** Only what arrives after this (its last heartbeat) counts. */
  after: number
}
export type Message =
  | { cmd: 'poll'; targets: Target[] }
  | { cmd: 'bytes'; from: number; to: number }
  | { cmd: 'report'; targets: Target[] }
export interface Report {
  /** Per target: first arrival showing it unhealthy, minus its deadline (null: never seen). */
  sse: (number | null)[]
  poll: (number | null)[]
  polls: number
}

const url = process.env.BRIDGE_URL ?? ''
const now = () => performance.timeOrigin + performance.now()
const chunks: { at: number; bytes: Buffer }[] = []
const agent = new Agent({ keepAlive: true, maxSockets: 64 })

request(`${url}/health/stream`, { headers: { accept: 'text/event-stream' } }, (res) => {
  res.on('data', (b: Buffer) => {
    chunks.push({ at: now(), bytes: b })
    if (chunks.length === 1) process.send?.({ ready: true })
  })
}).end()

const pollResults = new Map<string, number>()
let polls = 0
const key = (t: Pick<Target, 'service' | 'instance'>) => `${t.service}\u0000${t.instance}`
const cycleKey = (t: Target) => `${key(t)}@${t.deadline}`

function get(path: string, etag: string | null): Promise<{ status: number; etag: string | null }> {
  return new Promise((resolve, reject) => {
    const headers = etag === null ? {} : { 'if-none-match': etag }
    request(`${url}${path}`, { agent, headers }, (res) => {
      res.resume()
      res.on('end', () => {
        const tag = res.headers.etag
        resolve({ status: res.statusCode ?? 0, etag: typeof tag === 'string' ? tag : null })
      })
    })
      .on('error', reject)
      .end()
  })
}

/** From 20 ms before the deadline, as fast as answers come (1 ms apart), until it reads 503. */
async function pollOne(t: Target): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.max(0, t.deadline - 20 - now())))
  const path = `/health?service=${t.service}&instance=${t.instance}`
  let etag: string | null = null
  while (now() < t.deadline + 5000) {
    const answer = await get(path, etag)
    polls++
    if (answer.status === 503) {
      pollResults.set(cycleKey(t), now() - t.deadline)
      return
    }
    etag = answer.etag ?? etag
    await new Promise((r) => setTimeout(r, 1))
  }
}

/**
 * When each target first went from healthy to unhealthy in the stream after its last heartbeat.
 * A transition, not a state: an event still in flight may show the state before that heartbeat.
 */
function sseLateness(targets: readonly Target[]): (number | null)[] {
  const index = new Map(targets.map((t, i) => [key(t), i]))
  const first = new Array<number | null>(targets.length).fill(null)
  const shown = new Array<string | null>(targets.length).fill(null)
  const parser = new SseParser()
  const decoder = new TextDecoder()
  for (const c of chunks) {
    for (const e of parser.push(decoder.decode(c.bytes, { stream: true }))) {
      if (e.event !== 'health' && e.event !== 'delta') continue
      const doc = JSON.parse(e.data) as {
        services: { name: string; instances: { id: string; status: string }[] }[]
      }
      for (const s of doc.services) {
        for (const inst of s.instances) {
          const i = index.get(`${s.name}\u0000${inst.id}`)
          const t = i === undefined ? undefined : targets[i]
          if (i === undefined || !t) continue
          const flipped = shown[i] === 'healthy' && inst.status === 'unhealthy'
          if (flipped && first[i] === null && c.at > t.after) first[i] = c.at - t.deadline
          shown[i] = inst.status
        }
      }
    }
  }
  return first
}

process.on('message', (m: Message) => {
  if (m.cmd === 'poll') {
    for (const t of m.targets) void pollOne(t)
  } else if (m.cmd === 'bytes') {
    const inWindow = chunks.filter((c) => c.at >= m.from && c.at <= m.to)
    const text = Buffer.concat(inWindow.map((c) => c.bytes)).toString()
    process.send?.({
      bytes: inWindow.reduce((n, c) => n + c.bytes.byteLength, 0),
      events: (text.match(/^event: /gm) ?? []).length,
    })
  } else {
    const report: Report = {
      sse: sseLateness(m.targets),
      poll: m.targets.map((t) => pollResults.get(cycleKey(t)) ?? null),
      polls,
    }
    process.send?.(report)
  }
})
