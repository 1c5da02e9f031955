/** The soak's command line: sizes, rates and limits, each with a short default for development. */
import { parseArgs } from 'node:util'

import { parseDuration } from '../../src/config/duration.js'

export interface SoakOptions {
  durationMs: number
  senders: number
  /** Heartbeat services the senders are spread over. */
  services: number
  pollers: number
  streams: number
  /** Malformed requests per second (the fuzzers' generators). */
  malformedPerS: number
  /** Each sender and poller waits a random time in [min, max] between requests. */
  intervalMinMs: number
  intervalMaxMs: number
  /** Chance, per heartbeat, that a healthy sender starts sending an error (it recovers soon). */
  flip: number
  /** `auto`: the Docker part runs when a private engine can (root, dockerd, a shared engine). */
  docker: 'auto' | 'on' | 'off'
  /** dockerd restarts, spread over the run. */
  engineRestarts: number
  /** Fraction of the run excluded from the RSS fit. */
  warmup: number
  /** RSS and /metrics are sampled this often. */
  sampleEveryMs: number
  seed: number
  /** Where summary.json / summary.md go. */
  out: string
}

const USAGE = `npm run soak -- [--duration 60s] [--senders 200] [--pollers 40] [--streams 10]
  [--malformed 100] [--interval 1s-5s] [--flip 0.01] [--docker auto|on|off] [--engine-restarts 2]
  [--warmup 0.25] [--sample 5s] [--seed N] [--out bench/out/soak]
The full run: npm run soak -- --duration 10m --senders 1000 --pollers 200 --streams 50 --malformed 500`

function duration(value: string, name: string): number {
  const ms = parseDuration(value)
  if (ms === undefined) throw new Error(`--${name}: not a duration: ${value}\n${USAGE}`)
  return ms
}

function count(value: string, name: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a count: ${value}\n${USAGE}`)
  return n
}

export function parseOptions(argv: readonly string[]): SoakOptions {
  const { values: v } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string', default: '60s' },
      senders: { type: 'string', default: '200' },
      pollers: { type: 'string', default: '40' },
      streams: { type: 'string', default: '10' },
      malformed: { type: 'string', default: '100' },
      interval: { type: 'string', default: '1s-5s' },
      flip: { type: 'string', default: '0.01' },
      docker: { type: 'string', default: 'auto' },
      'engine-restarts': { type: 'string', default: '2' },
      warmup: { type: 'string', default: '0.25' },
      sample: { type: 'string', default: '5s' },
      seed: { type: 'string' },
      out: { type: 'string', default: 'bench/out/soak' },
      help: { type: 'boolean', default: false },
    },
  })
  if (v.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const [lo = '1s', hi = lo] = v.interval.split('-')
  const docker = v.docker
  if (docker !== 'auto' && docker !== 'on' && docker !== 'off')
    throw new Error(`--docker: auto, on or off\n${USAGE}`)
  const senders = count(v.senders, 'senders')
  return {
    durationMs: duration(v.duration, 'duration'),
    senders,
    services: Math.max(1, Math.min(50, senders)),
    pollers: count(v.pollers, 'pollers'),
    streams: count(v.streams, 'streams'),
    malformedPerS: count(v.malformed, 'malformed'),
    intervalMinMs: duration(lo, 'interval'),
    intervalMaxMs: duration(hi, 'interval'),
    flip: count(v.flip, 'flip'),
    docker,
    engineRestarts: count(v['engine-restarts'], 'engine-restarts'),
    warmup: count(v.warmup, 'warmup'),
    sampleEveryMs: duration(v.sample, 'sample'),
    seed: v.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(v.seed),
    out: v.out,
  }
}
