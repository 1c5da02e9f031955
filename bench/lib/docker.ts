/**
 * The Docker side of the benches: is there an engine, compose projects of our own (unique names,
 * always removed), and the engine's own event stream as the ground truth of when things happened.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { request, type ClientRequest } from 'node:http'
import { join } from 'node:path'

import { dockerGet } from './machine.js'
import { BENCH_OUT } from './paths.js'

export const DOCKER_SOCKET = '/var/run/docker.sock'
export const TEST_IMAGE = 'health-bridge-test/busybox:latest'

/** Why the Docker benches cannot run here, or null when they can. */
export async function dockerUnavailable(): Promise<string | null> {
  if (!existsSync(DOCKER_SOCKET)) return `no Docker engine socket at ${DOCKER_SOCKET}`
  if ((await dockerGet('/_ping')) === null && (await dockerGet('/version')) === null) {
    return `the engine at ${DOCKER_SOCKET} does not answer`
  }
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' })
  } catch {
    return 'docker compose (v2) is not installed'
  }
  try {
    execFileSync('docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'ignore' })
  } catch {
    return `image ${TEST_IMAGE} is missing (run scripts/ci/build-test-images.sh)`
  }
  return null
}

export function docker(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'docker',
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`docker ${args.slice(0, 4).join(' ')}: ${stderr.trim() || err.message}`))
        else resolve(stdout.trim())
      }
    )
  })
}

const liveProjects = new Set<string>()

/** Removes every project still up (Ctrl-C, failures): synchronous, for exit paths. */
export function removeAllProjectsSync(): void {
  for (const name of liveProjects) {
    try {
      execFileSync('docker', ['compose', '-p', name, 'down', '-v', '-t', '0', '--remove-orphans'], {
        stdio: 'ignore',
        timeout: 120_000,
      })
    } catch {
      // Best effort; the name is unique, so a leftover is easy to find.
    }
  }
  liveProjects.clear()
}

export class Project {
  readonly file: string
  constructor(
    readonly name: string,
    yaml: string
  ) {
    const dir = join(BENCH_OUT, 'compose')
    mkdirSync(dir, { recursive: true })
    this.file = join(dir, `${name}.yml`)
    writeFileSync(this.file, yaml)
  }

  compose(args: readonly string[], timeoutMs = 300_000): Promise<string> {
    liveProjects.add(this.name)
    return docker(['compose', '-p', this.name, '-f', this.file, ...args], timeoutMs)
  }

  /** Containers of the project: id and name, by compose's label. */
  async containers(): Promise<{ id: string; name: string; service: string }[]> {
    const out = await docker([
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${this.name}`,
      '--format',
      '{{.ID}} {{.Names}} {{.Label "com.docker.compose.service"}}',
    ])
    return out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [id = '', name = '', service = ''] = l.split(' ')
        return { id, name, service }
      })
  }

  async down(): Promise<void> {
    try {
      await this.compose(['down', '-v', '-t', '0', '--remove-orphans'])
    } finally {
      liveProjects.delete(this.name)
    }
  }
}

/** Milliseconds one GET /containers/{id}/json takes on the engine's socket (NaN on failure). */
export function timedInspect(id: string): Promise<number> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const req = request(
      { socketPath: DOCKER_SOCKET, path: `/containers/${id}/json`, timeout: 5000 },
      (res) => {
        res.resume()
        res.on('end', () => {
          resolve(res.statusCode === 200 ? performance.now() - t0 : Number.NaN)
        })
      }
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => {
      resolve(Number.NaN)
    })
    req.end()
  })
}

/** A unique project name for this run: `hb-bench-<what>-<pid>`. */
export function projectName(what: string): string {
  return `hb-bench-${what}-${process.pid}`
}

export interface EngineEvent {
  /** Epoch ms from the engine's own timeNano. */
  at: number
  action: string
  id: string
  name: string
  exitCode: number | null
  /** Epoch ms at which this process received the event: the engine's delivery lag is the floor of any event-driven observer. */
  receivedAt: number
}

/** Follows the engine's container events of one project, stamped with the engine's timeNano. */
export function recordEvents(project: string): {
  ready: Promise<void>
  events: EngineEvent[]
  stop(): void
} {
  const events: EngineEvent[] = []
  const filters = encodeURIComponent(
    JSON.stringify({ type: ['container'], label: [`com.docker.compose.project=${project}`] })
  )
  let req: ClientRequest | null = null
  const ready = new Promise<void>((resolve, reject) => {
    req = request({ socketPath: DOCKER_SOCKET, path: `/events?filters=${filters}` }, (res) => {
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buf += chunk
        let nl = buf.indexOf('\n')
        while (nl !== -1) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          nl = buf.indexOf('\n')
          try {
            const e = JSON.parse(line) as {
              Action?: string
              Actor?: { ID?: string; Attributes?: Record<string, string> }
              timeNano?: number
            }
            const attrs = e.Actor?.Attributes ?? {}
            events.push({
              at: (e.timeNano ?? 0) / 1e6,
              action: e.Action ?? '',
              id: e.Actor?.ID ?? '',
              name: attrs.name ?? '',
              exitCode: attrs.exitCode === undefined ? null : Number(attrs.exitCode),
              receivedAt: performance.timeOrigin + performance.now(),
            })
          } catch {
            // Not a JSON line; the engine does not send those, but a bench must not die of one.
          }
        }
      })
      resolve()
    })
    req.on('error', reject)
    req.end()
  })
  return {
    ready,
    events,
    stop: () => {
      req?.destroy()
    },
  }
}
