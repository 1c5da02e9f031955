/**
 * Finding the bridge's own compose project from inside a container, with what a real container
 * on this engine sees in /proc (cgroup v1 or v2, mountinfo) and its real hostname.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { DockerodeApi } from '../../src/sources/docker/docker-api.js'
import {
  containerIdsFromProc,
  findOwnProject,
  type SelfProbe,
} from '../../src/sources/docker/find-project.js'
import {
  composeLabels,
  containerId,
  docker,
  DOCKER_SOCKET,
  dockerAvailable,
  removeProject,
  TEST_IMAGE,
  uniqueProject,
} from '../helpers/docker.js'

const engine = await dockerAvailable()
const project = uniqueProject('self')
const name = `${project}-bridge-1`

/** What the process inside the container would read. */
async function probeInside(extra: Record<string, string> = {}): Promise<SelfProbe> {
  const files: Record<string, string> = { ...extra }
  for (const path of ['/proc/self/cgroup', '/proc/self/mountinfo']) {
    files[path] = await docker(['exec', name, 'cat', path])
  }
  const hasDockerenv = await docker([
    'exec',
    name,
    'sh',
    '-c',
    'test -e /.dockerenv && echo yes || true',
  ])
  if (hasDockerenv === 'yes') files['/.dockerenv'] = ''
  const hostname = await docker(['exec', name, 'hostname'])
  return { hostname, readFile: (path) => Promise.resolve(files[path]) }
}

describe.skipIf(!engine.ok)('finding the own compose project on a real engine', () => {
  let id: string
  const api = new DockerodeApi({ dockerHost: `unix://${DOCKER_SOCKET}` })

  beforeAll(async () => {
    await removeProject(project)
    await docker([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'none',
      ...composeLabels(project, 'bridge'),
      TEST_IMAGE,
      'sleep',
      '1000',
    ])
    id = await containerId(name)
    await api.negotiate(AbortSignal.timeout(5000))
  })

  afterAll(async () => {
    await removeProject(project)
  })

  it('finds itself from /proc', async () => {
    const probe = await probeInside()
    const [cgroup, mountinfo] = await Promise.all([
      probe.readFile('/proc/self/cgroup'),
      probe.readFile('/proc/self/mountinfo'),
    ])
    expect(containerIdsFromProc(cgroup, mountinfo)).toContain(id)
    await expect(findOwnProject(api, probe, AbortSignal.timeout(5000))).resolves.toEqual({
      project,
      containerId: id,
    })
  })

  it('finds itself by hostname when /proc names no container', async () => {
    const probe = await probeInside()
    const files = { '/proc/self/cgroup': '0::/\n', '/.dockerenv': '' }
    const hostnameOnly: SelfProbe = {
      hostname: probe.hostname,
      readFile: (p) => Promise.resolve(files[p as keyof typeof files]),
    }
    await expect(findOwnProject(api, hostnameOnly, AbortSignal.timeout(5000))).resolves.toEqual({
      project,
      containerId: id,
    })
  })
})
