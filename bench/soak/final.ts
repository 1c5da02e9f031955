/**
 * The end of the soak, once the load has stopped: the statuses the bridge serves against what
 * the senders last said (at once, well within HEARTBEAT_TIMEOUT), against `docker compose ps`
 * (retried: the crasher may crash between the two reads), and every live stream client's
 * document against a fresh `GET /health` (retried until the stream has caught up).
 */
import { isDeepStrictEqual } from 'node:util'

import type { HealthDocument } from '../../src/wire/health-document.js'
import { drawnOnly } from '../../test/helpers/drawn.js'

import { COMPOSE_SERVICES, type Chaos } from './chaos.js'
import type { SenderState } from './senders.js'
import type { StreamClientState } from './streams.js'
import { sleep } from './tally.js'
import {
  compareCompose,
  compareSenders,
  parsePs,
  type ComposeRow,
  type SenderComparison,
} from './verdict.js'

export async function getDoc(url: string): Promise<HealthDocument> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) })
  return (await res.json()) as HealthDocument
}

export interface FinalResult {
  senders: SenderComparison
  compose: ComposeRow[] | null
  /** Docker instances the bridge serves that compose does not list. */
  strays: string[]
  streams: { live: number; equal: number; mismatched: number[]; diffs: string[] }
  finalDoc: HealthDocument
}

const RETRIES = 20

export async function finalChecks(
  url: string,
  senders: readonly SenderState[],
  clients: readonly StreamClientState[],
  chaos: Chaos | null,
  crashloopRestarts: number
): Promise<FinalResult> {
  const first = await getDoc(url)
  const senderResult = compareSenders(first, senders)

  let compose: ComposeRow[] | null = null
  let strays: string[] = []
  if (chaos) {
    for (let i = 0; i < RETRIES; i++) {
      const ps = parsePs(await chaos.compose(['ps', '-a', '--format', 'json']))
      const doc = await getDoc(url)
      compose = compareCompose(doc, ps, COMPOSE_SERVICES, crashloopRestarts)
      const names = new Set(ps.map((p) => p.Name))
      strays = doc.services
        .flatMap((s) => s.instances)
        .filter((inst) => inst.docker && !names.has(inst.docker.name))
        .map((inst) => inst.id)
      if (compose.every((r) => r.ok) && strays.length === 0) break
      await sleep(1000)
    }
  }

  let streams: FinalResult['streams'] = { live: 0, equal: 0, mismatched: [], diffs: [] }
  let finalDoc = first
  for (let i = 0; i < RETRIES; i++) {
    finalDoc = await getDoc(url)
    const want = drawnOnly(finalDoc)
    const live = clients.filter((c) => c.connected && c.document() !== null)
    const mismatched = live.filter((c) => {
      const d = c.document()
      return d === null || !isDeepStrictEqual(drawnOnly(d), want)
    })
    streams = {
      live: live.length,
      equal: live.length - mismatched.length,
      mismatched: mismatched.map((c) => c.id),
      diffs: mismatched.map(
        (c) => `client ${c.id} (${c.lastStart}): ${describeDiff(c.document(), finalDoc)}`
      ),
    }
    if (mismatched.length === 0 && live.length === clients.length) break
    await sleep(500)
  }
  return { senders: senderResult, compose, strays, streams, finalDoc }
}

/** Which drawn parts of two documents differ, in a line: header fields and services by name. */
export function describeDiff(got: HealthDocument | null, want: HealthDocument): string {
  if (got === null) return 'no document'
  const g = drawnOnly(got) as HealthDocument
  const w = drawnOnly(want) as HealthDocument
  const out: string[] = []
  if (g.status !== w.status) out.push(`status ${g.status} != ${w.status}`)
  if (!isDeepStrictEqual(g.bridge, w.bridge)) out.push('bridge header differs')
  const names = new Set([...g.services, ...w.services].map((s) => s.name))
  for (const name of names) {
    const a = g.services.find((s) => s.name === name)
    const b = w.services.find((s) => s.name === name)
    if (!isDeepStrictEqual(a, b)) out.push(`${name}: ${pathsDiffering(a, b, '').join(', ')}`)
  }
  return out.join('; ').slice(0, 600)
}

/** The paths at which two JSON values differ, with both values (the first few). */
function pathsDiffering(a: unknown, b: unknown, path: string): string[] {
  if (isDeepStrictEqual(a, b)) return []
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...keys]
      .flatMap((k) =>
        pathsDiffering(
          (a as Record<string, unknown>)[k],
          (b as Record<string, unknown>)[k],
          `${path}.${k}`
        )
      )
      .slice(0, 6)
  }
  return [`${path || '.'} ${JSON.stringify(a)} != ${JSON.stringify(b)}`]
}
