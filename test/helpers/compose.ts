/**
 * End-to-end plumbing: build images from the repository's Dockerfiles, run compose projects made
 * of the files under compose/, and look at them the way a user does: HTTP from the host through
 * the published port, `docker inspect`, `docker compose exec`. Every image, project and socket a
 * helper creates is tracked, and `cleanUp()` removes them all (also after a failed test).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { healthDocumentSchema, type HealthDocument } from '../../src/wire/health-document.js'

import { docker, DOCKER_SOCKET, REPO_ROOT, removeProject } from './docker.js'

/** The offline stand-in for node:20-bookworm-slim (scripts/ci/build-node-base-image.sh). */
export const NODE_BASE_IMAGE = 'health-bridge-test/node-base:20'

/** A cold `docker build` runs `npm ci` and `tsc` inside the build; allow for a slow machine. */
const BUILD_TIMEOUT_MS = 10 * 60_000

export type ServiceDoc = HealthDocument['services'][number]

const images = new Set<string>()
const projects = new Map<string, ComposeProject>()
const tempDirs = new Set<string>()

/** The group owning the engine's socket: what DOCKER_GID must be for the non-root bridge. */
export function dockerGid(): string {
  return String(statSync(DOCKER_SOCKET).gid)
}

/** Builds NODE_BASE_IMAGE when it is missing (CI builds it before the tests). */
export async function ensureNodeBaseImage(): Promise<void> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', NODE_BASE_IMAGE])
  } catch {
    await docker(['version'], { timeoutMs: 10_000 })
    const { execFile } = await import('node:child_process')
    await new Promise<void>((resolve, reject) => {
      execFile(
        'bash',
        [`${REPO_ROOT}scripts/ci/build-node-base-image.sh`, '--skip-npm-check'],
        { timeout: 5 * 60_000 },
        (err, _out, stderr) => {
          if (err) reject(new Error(`building ${NODE_BASE_IMAGE} failed: ${stderr || err.message}`))
          else resolve()
        }
      )
    })
  }
}

/** Images `docker build` created for a non-final stage: its cache, which `rmi <tag>` keeps. */
const stageImages: { id: string; builtAfter: number }[] = []

/**
 * `docker build` (the classic builder here, as a user's plain `docker build` would be) of
 * `context` into `tag`. `cleanUp()` removes the tag and every image this build created (the
 * classic builder keeps each stage's last layer as an untagged image), but no image that was
 * already there (layers reused from cache, e.g. CI's prebuilt image).
 */
export async function buildImage(
  tag: string,
  context: string,
  buildArgs: Record<string, string> = {}
): Promise<void> {
  images.add(tag)
  const builtAfter = Date.now() - 1000
  const args = ['build', '--force-rm', '-t', tag]
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`)
  const out = await docker([...args, context], { timeoutMs: BUILD_TIMEOUT_MS })
  for (const m of out.matchAll(/^ ---> ([0-9a-f]{12})$/gm)) {
    if (m[1] !== undefined) stageImages.push({ id: m[1], builtAfter })
  }
}

export interface ImageFacts {
  user: string
  entrypoint: string[]
  cmd: string[] | null
  healthcheck: string[]
  stopSignal: string
  env: string[]
  exposedPorts: string[]
  sizeBytes: number
}

export async function inspectImage(tag: string): Promise<ImageFacts> {
  const [raw] = JSON.parse(await docker(['image', 'inspect', tag])) as [
    {
      Size: number
      Config: {
        User: string
        Entrypoint: string[] | null
        Cmd: string[] | null
        Healthcheck?: { Test: string[] }
        StopSignal?: string
        Env: string[]
        ExposedPorts?: Record<string, unknown>
      }
    },
  ]
  return {
    user: raw.Config.User,
    entrypoint: raw.Config.Entrypoint ?? [],
    cmd: raw.Config.Cmd,
    healthcheck: raw.Config.Healthcheck?.Test ?? [],
    stopSignal: raw.Config.StopSignal ?? '',
    env: raw.Config.Env,
    exposedPorts: Object.keys(raw.Config.ExposedPorts ?? {}),
    sizeBytes: raw.Size,
  }
}

/** A TCP port nothing listens on right now, for a published port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      s.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

/** A temporary directory, removed by `cleanUp()`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`))
  tempDirs.add(dir)
  return dir
}

/**
 * A compose file written to a temporary directory (for projects that `include:` one of the
 * repository's snippets the way a user's own compose file would).
 */
export function writeComposeFile(prefix: string, yaml: string): string {
  const file = join(tempDir(prefix), 'compose.yaml')
  writeFileSync(file, yaml)
  return file
}

export interface HttpAnswer<T = unknown> {
  status: number
  body: T
  text: string
}

/** GET from the host, through the published port, as `curl` would. */
export async function httpGet<T = unknown>(url: string): Promise<HttpAnswer<T>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  const text = await res.text()
  let body: unknown = null
  try {
    body = JSON.parse(text)
  } catch {
    // Plain text (format=text) or an empty body.
  }
  return { status: res.status, body: body as T, text }
}

/** A compose project: files from the repository plus the environment they interpolate. */
export class ComposeProject {
  readonly name: string
  private readonly files: readonly string[]
  private readonly env: Record<string, string>

  constructor(name: string, files: readonly string[], env: Record<string, string>) {
    this.name = name
    this.files = files
    this.env = env
    projects.set(name, this)
  }

  /** `docker compose <args>` for this project; `env` adds or overrides variables. */
  compose(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 180_000) {
    const fileArgs = this.files.flatMap((f) => ['-f', f])
    return docker(['compose', '-p', this.name, ...fileArgs, ...args], {
      env: { ...this.env, ...env },
      timeoutMs,
    })
  }

  /** The container of `service` (replica `n`), by compose's labels. */
  async container(service: string, n = 1): Promise<string> {
    const id = await docker([
      'ps',
      '-aq',
      '--filter',
      `label=com.docker.compose.project=${this.name}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
      '--filter',
      `label=com.docker.compose.container-number=${n}`,
    ])
    if (id === '') throw new Error(`${this.name}: no container for ${service} #${n}`)
    return id.split('\n')[0] ?? id
  }

  async inspect<T>(service: string, format: string): Promise<T> {
    return JSON.parse(
      await docker(['inspect', '--format', `{{json ${format}}}`, await this.container(service)])
    ) as T
  }

  /** `docker compose down -v`, then anything compose would not remove (strays). */
  async down(): Promise<void> {
    try {
      await this.compose(['down', '-v', '--rmi', 'local', '--remove-orphans', '-t', '5'])
    } finally {
      await removeProject(this.name)
      projects.delete(this.name)
    }
  }

  /** Everything of this project that still exists: containers, networks, volumes, images. */
  async leftovers(): Promise<string[]> {
    const filter = `label=com.docker.compose.project=${this.name}`
    const kinds = ['container', 'network', 'volume', 'image'] as const
    const lists = await Promise.all([
      docker(['ps', '-aq', '--filter', filter]),
      docker(['network', 'ls', '-q', '--filter', filter]),
      docker(['volume', 'ls', '-q', '--filter', filter]),
      // Compose labels the images it builds with the project (tagged or dangling).
      docker(['images', '-aq', '--filter', filter]),
    ])
    return lists.flatMap((l, i) =>
      l
        .split('\n')
        .filter(Boolean)
        .map((id) => `${kinds[i] ?? ''} ${id}`)
    )
  }
}

/** The bridge of a project, as a user reaches it: http://127.0.0.1:<published port>. */
export class BridgeClient {
  constructor(readonly baseUrl: string) {}

  async health(): Promise<{ status: number; doc: HealthDocument }> {
    const res = await httpGet(`${this.baseUrl}/health`)
    return { status: res.status, doc: healthDocumentSchema.parse(res.body) }
  }

  async service(name: string): Promise<HttpAnswer<ServiceDoc>> {
    return httpGet<ServiceDoc>(`${this.baseUrl}/health?service=${encodeURIComponent(name)}`)
  }
}

/** A one-line view of a service, for failure messages. */
export function summary(s: ServiceDoc | undefined): string {
  if (!s) return 'absent'
  const instances = s.instances.map((i) => `${i.id}=${i.status} (${i.message})`).join(', ')
  return `${s.name} ${s.status} "${s.message}" [${instances}]`
}

async function imageFacts(id: string): Promise<{ Created: string; RepoTags: string[] } | null> {
  try {
    const [facts] = JSON.parse(await docker(['image', 'inspect', id])) as [
      { Created: string; RepoTags: string[] },
    ]
    return facts
  } catch {
    return null
  }
}

/** Removes every project, image and temporary directory the helpers created. */
export async function cleanUp(): Promise<void> {
  const errors: string[] = []
  for (const p of [...projects.values()]) {
    await p.down().catch((err: unknown) => errors.push((err as Error).message))
  }
  for (const tag of images) {
    try {
      await docker(['image', 'inspect', '--format', '{{.Id}}', tag])
    } catch {
      images.delete(tag)
      continue
    }
    await docker(['rmi', '-f', tag])
      .then(() => images.delete(tag))
      .catch((err: unknown) => errors.push((err as Error).message))
  }
  // Newest first, so a child goes before its parent; anything tagged or older stays.
  for (const { id, builtAfter } of stageImages.splice(0).reverse()) {
    const facts = await imageFacts(id)
    if (!facts) continue // already gone with its child
    if (facts.RepoTags.length > 0 || Date.parse(facts.Created) < builtAfter) continue
    await docker(['rmi', id]).catch(() => undefined) // still a parent of something: not ours
  }
  for (const dir of tempDirs) {
    rmSync(dir, { recursive: true, force: true })
    tempDirs.delete(dir)
  }
  if (errors.length > 0) throw new Error(`clean-up failed: ${errors.join('; ')}`)
}

/** The tags among those the helpers created that still exist. */
export async function imagesLeft(tags: readonly string[]): Promise<string[]> {
  const left: string[] = []
  for (const tag of tags) {
    try {
      await docker(['image', 'inspect', '--format', '{{.Id}}', tag])
      left.push(tag)
    } catch {
      // Gone, as it should be.
    }
  }
  return left
}
