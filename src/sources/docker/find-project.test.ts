import { describe, expect, it } from 'vitest'

import { FakeDockerApi, inspectInfo } from '../../../test/helpers/docker-fake-api.js'

import { containerIdsFromProc, findOwnProject, type SelfProbe } from './find-project.js'

const ID = 'f'.repeat(64)
const OTHER = 'e'.repeat(64)

const mountinfoV2 = [
  '620 560 0:52 / / rw,relatime master:289 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC',
  `631 620 254:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw`,
  `632 620 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`,
].join('\n')

describe('containerIdsFromProc', () => {
  it.each([
    {
      desc: 'cgroup v1',
      cgroup: `12:memory:/docker/${ID}\n11:cpu:/docker/${ID}\n`,
      mountinfo: '',
      ids: [ID],
    },
    {
      desc: 'systemd cgroup driver',
      cgroup: `0::/system.slice/docker-${ID}.scope\n`,
      mountinfo: '',
      ids: [ID],
    },
    {
      desc: 'cgroup v2 namespace: only mountinfo knows',
      cgroup: '0::/\n',
      mountinfo: mountinfoV2,
      ids: [ID],
    },
    {
      desc: 'the host itself',
      cgroup: '0::/user.slice/user-1000.slice\n',
      mountinfo: '22 1 254:1 / / rw - ext4 /dev/vda1 rw',
      ids: [],
    },
    { desc: 'nothing readable', cgroup: undefined, mountinfo: undefined, ids: [] },
  ])('$desc', ({ cgroup, mountinfo, ids }) => {
    expect(containerIdsFromProc(cgroup, mountinfo)).toEqual(ids)
  })

  it('does not take overlay layer ids on the host for container ids', () => {
    const host =
      `100 22 0:60 / /var/lib/docker/overlay2/${OTHER}/merged rw - overlay overlay rw\n` +
      `101 22 0:61 / /var/lib/docker/containers/${OTHER}/mounts/shm rw - tmpfs shm rw`
    expect(containerIdsFromProc('0::/', host)).toEqual([])
  })
})

function self(files: Record<string, string>, hostname = 'ffffffffffff'): SelfProbe {
  return { hostname, readFile: (path) => Promise.resolve(files[path]) }
}

describe('findOwnProject', () => {
  const signal = new AbortController().signal

  it('reads the project label of its own container', async () => {
    const api = new FakeDockerApi()
    api.add(
      inspectInfo('bridge', {
        Id: ID,
        Config: { Labels: { 'com.docker.compose.project': 'clp-package' } },
      })
    )
    await expect(
      findOwnProject(api, self({ '/proc/self/mountinfo': mountinfoV2 }), signal)
    ).resolves.toEqual({
      project: 'clp-package',
      containerId: ID,
    })
  })

  it('is not in a container on a plain host, and asks the engine nothing', async () => {
    const api = new FakeDockerApi()
    await expect(
      findOwnProject(api, self({ '/proc/self/cgroup': '0::/\n' }), signal)
    ).resolves.toBeNull()
    expect(api.calls).toEqual([])
  })

  it('falls back to the hostname, but only when that container really has our hostname', async () => {
    const api = new FakeDockerApi()
    api.add(inspectInfo('bridge', { Id: ID, Config: { Hostname: 'ffffffffffff' } }))
    const probe = self({ '/.dockerenv': '' }, 'ffffffffffff')
    // The fake finds containers by full id only; the engine would also resolve the short id.
    api.containers.set('ffffffffffff', api.containers.get(ID) ?? inspectInfo('x'))
    await expect(findOwnProject(api, probe, signal)).resolves.toEqual({
      project: 'proj',
      containerId: ID,
    })
    api.containers.set('ffffffffffff', inspectInfo('x', { Config: { Hostname: 'someone-else' } }))
    await expect(findOwnProject(api, probe, signal)).resolves.toBeNull()
  })

  it('says null for a container that is not part of a compose project', async () => {
    const api = new FakeDockerApi()
    const info = inspectInfo('bridge', { Id: ID })
    info.Config.Labels = {}
    api.add(info)
    await expect(
      findOwnProject(api, self({ '/proc/self/cgroup': `1:name=systemd:/docker/${ID}` }), signal)
    ).resolves.toBeNull()
  })
})
