/**
 * A Server-Sent Events client that only stamps: each event's arrival time is taken when the
 * chunk that completes it arrives, and parsing waits until the measurement is over, so a large
 * document never delays the stamp of the next one.
 */
import { request, type ClientRequest } from 'node:http'

export interface SseEvent {
  /** Epoch ms (sub-millisecond) at which the event was complete. */
  at: number
  event: string
  data: string
}

export interface SseRecorder {
  /** Resolves once the response headers arrived. */
  readonly connected: Promise<void>
  /** Stops listening and returns the events received so far. */
  stop(): SseEvent[]
  /** Events received so far (parsed now). */
  events(): SseEvent[]
}

export function recordSse(url: string): SseRecorder {
  const chunks: { at: number; text: string }[] = []
  let req: ClientRequest | null = null
  const connected = new Promise<void>((resolve, reject) => {
    req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${url} answered ${res.statusCode}`))
        res.resume()
        return
      }
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        chunks.push({ at: performance.timeOrigin + performance.now(), text })
      })
      resolve()
    })
    req.on('error', reject)
    req.end()
  })
  const parse = (): SseEvent[] => {
    const out: SseEvent[] = []
    let buf = ''
    for (const c of chunks) {
      buf += c.text
      let end = buf.indexOf('\n\n')
      while (end !== -1) {
        const block = buf.slice(0, end)
        buf = buf.slice(end + 2)
        let event = 'message'
        const data: string[] = []
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7)
          else if (line.startsWith('data: ')) data.push(line.slice(6))
        }
        if (data.length > 0) out.push({ at: c.at, event, data: data.join('\n') })
        end = buf.indexOf('\n\n')
      }
    }
    return out
  }
  return {
    connected,
    events: parse,
    stop: () => {
      req?.destroy()
      return parse()
    },
  }
}
