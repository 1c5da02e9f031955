/**
 * Which compose project to watch when COMPOSE_PROJECT_NAME is not set: the bridge's own, read from
 * its own container's `com.docker.compose.project` label. To find itself it needs its container
 * id: the cgroup path (cgroup v1) or the mount source of /etc/hostname (cgroup v2, where
 * /proc/self/cgroup says only `0::/`), else the hostname, which Docker sets to the short id.
 */
import type { DockerApi } from './docker-api.js'
import { COMPOSE_PROJECT } from './labels.js'

export interface SelfProbe {
  hostname: string
  /** Reads a /proc file; undefined when it does not exist or cannot be read. */
  readFile: (path: string) => Promise<string | undefined>
}

export interface FoundProject {
  project: string
  containerId: string
}

const ID = /[0-9a-f]{64}/g

/** Full container ids named by /proc/self/cgroup and /proc/self/mountinfo, most specific first. */
export function containerIdsFromProc(
  cgroup: string | undefined,
  mountinfo: string | undefined
): string[] {
  const ids: string[] = []
  const add = (id: string) => {
    if (!ids.includes(id)) ids.push(id)
  }
  for (const line of (mountinfo ?? '').split('\n')) {
    // `... /var/lib/docker/containers/<id>/hostname /etc/hostname rw,...`
    const m = /\/containers\/([0-9a-f]{64})\/(hostname|hosts|resolv\.conf)\s/.exec(line)
    if (m?.[1] !== undefined) add(m[1])
  }
  for (const line of (cgroup ?? '').split('\n')) {
    // `12:memory:/docker/<id>` or `0::/system.slice/docker-<id>.scope`
    for (const id of line.match(ID) ?? []) add(id)
  }
  return ids
}

/**
 * Looks for the bridge's own container and returns its compose project; null when the bridge
 * is not in a container, or its container is not part of a compose project.
 */
export async function findOwnProject(
  api: DockerApi,
  self: SelfProbe,
  signal: AbortSignal
): Promise<FoundProject | null> {
  const [cgroup, mountinfo, dockerenv] = await Promise.all([
    self.readFile('/proc/self/cgroup'),
    self.readFile('/proc/self/mountinfo'),
    self.readFile('/.dockerenv'),
  ])
  const ids = containerIdsFromProc(cgroup, mountinfo)
  const inContainer = ids.length > 0 || dockerenv !== undefined
  if (!inContainer) return null
  for (const id of ids) {
    const info = await api.inspectContainer(id, signal)
    if (info) return projectOf(info.Id, info.Config.Labels)
  }
  // Ids can be hidden (e.g. a private cgroup namespace with a bind-mounted hostname file from
  // elsewhere); the hostname is the short id unless compose set `hostname:`. Only trust a match
  // whose hostname really is ours, so a same-named container elsewhere is never mistaken for us.
  const info = await api.inspectContainer(self.hostname, signal)
  if (info && info.Config.Hostname === self.hostname) return projectOf(info.Id, info.Config.Labels)
  return null
}

function projectOf(
  containerId: string,
  labels: Readonly<Record<string, string>>
): FoundProject | null {
  const project = labels[COMPOSE_PROJECT]
  return project === undefined || project === '' ? null : { project, containerId }
}
