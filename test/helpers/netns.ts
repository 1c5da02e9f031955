/**
 * "Hosts" on a LAN, made of network namespaces, so a test can run one Docker engine and one
 * bridge per host, each with an address of its own, and pull a host's cable.
 *
 *       root namespace (the test: 10.231.S.1)
 *              │ veth
 *   ┌──────── lan namespace: bridge br0 ────────┐
 *   │ veth            │ veth            │ veth   │
 *  main (.10)     worker-1 (.11)    worker-2 (.12)      (each its own namespace, `eth0`)
 *
 * Traffic between hosts crosses br0 in the lan namespace, so `cut()` (the host's port on br0
 * down) makes the host silent to everyone, the way a dead switch port or a frozen VM does: no
 * reset, no FIN, the peers' sockets stay open and hear nothing. The root namespace gets one
 * address on the LAN and nothing else changes there (no forwarding, no route but the /24 of
 * its own veth). Needs root and iproute2; everything is removed by `destroy()`.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export interface NetHost {
  readonly name: string
  /** `ip netns` name; the namespace file is `/run/netns/<netns>`. */
  readonly netns: string
  readonly address: string
  /** The host's port on the LAN goes down: it is unreachable and hears nothing. */
  cut(): Promise<void>
  /** The port comes back up. */
  restore(): Promise<void>
  /** `nsenter` arguments that run a command on this host (network only; same files). */
  readonly enter: (command: readonly string[]) => string[]
}

export interface Lan {
  /** The first three octets, e.g. `10.231.42`. */
  readonly prefix: string
  /** The test process's own address on the LAN. */
  readonly self: string
  addHost(name: string, lastOctet: number): Promise<NetHost>
  /** Removes every namespace and link of this LAN (processes inside must be gone first). */
  destroy(): Promise<void>
}

function ip(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`))
      else resolve(stdout)
    })
  })
}

/** Why namespaces cannot be made here, or null when they can. */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  const probe = `hbmh-probe-${randomBytes(3).toString('hex')}`
  try {
    await ip(['netns', 'add', probe])
  } catch (err) {
    return `ip netns does not work here: ${(err as Error).message}`
  }
  try {
    await ip(['netns', 'del', probe])
  } catch {
    // It was made; removing it again is best effort.
  }
  for (const cmd of ['nsenter', 'iptables']) {
    const ok = await new Promise<boolean>((resolve) => {
      execFile(cmd, ['--version'], (err) => {
        resolve(err === null)
      })
    })
    if (!ok) return `no working ${cmd} on PATH`
  }
  return null
}

/** A /24 in 10.231.0.0/16 that no address or route of this machine uses yet. */
async function freePrefix(): Promise<string> {
  const used = (await ip(['-4', '-o', 'addr'])) + (await ip(['-4', 'route']))
  for (let tries = 0; tries < 50; tries++) {
    const prefix = `10.231.${Math.floor(Math.random() * 250) + 1}`
    if (!used.includes(`${prefix}.`)) return prefix
  }
  throw new Error('no free /24 in 10.231.0.0/16')
}

export async function createLan(): Promise<Lan> {
  const id = randomBytes(3).toString('hex')
  const lanNs = `hbmh-${id}-lan`
  // The root namespace's end: the only name this LAN adds there (interface names: 15 chars).
  const rootLink = `hbmh-${id}`
  const prefix = await freePrefix()
  const namespaces: string[] = []
  const destroy = async () => {
    await ip(['link', 'del', rootLink]).catch(() => undefined)
    for (const ns of namespaces.splice(0).reverse()) {
      await ip(['netns', 'del', ns]).catch(() => undefined)
    }
  }
  try {
    await ip(['netns', 'add', lanNs])
    namespaces.push(lanNs)
    await ip(['-n', lanNs, 'link', 'add', 'br0', 'type', 'bridge'])
    await ip(['-n', lanNs, 'link', 'set', 'br0', 'up'])
    await ip(['link', 'add', rootLink, 'type', 'veth', 'peer', 'name', 'self', 'netns', lanNs])
    await ip(['-n', lanNs, 'link', 'set', 'self', 'master', 'br0', 'up'])
    await ip(['addr', 'add', `${prefix}.1/24`, 'dev', rootLink])
    await ip(['link', 'set', rootLink, 'up'])
  } catch (err) {
    await destroy()
    throw err
  }

  return {
    prefix,
    self: `${prefix}.1`,
    destroy,
    addHost: async (name, lastOctet) => {
      const netns = `hbmh-${id}-${name}`
      const address = `${prefix}.${lastOctet}`
      // The host's end is `eth0` in its namespace, the switch's end is named after the host.
      const port = name.slice(0, 15)
      await ip(['netns', 'add', netns])
      namespaces.push(netns)
      await ip([
        'link',
        'add',
        'eth0',
        'netns',
        netns,
        'type',
        'veth',
        'peer',
        'name',
        port,
        'netns',
        lanNs,
      ])
      await ip(['-n', lanNs, 'link', 'set', port, 'master', 'br0', 'up'])
      await ip(['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
      await ip(['-n', netns, 'link', 'set', 'eth0', 'up'])
      await ip(['-n', netns, 'link', 'set', 'lo', 'up'])
      return {
        name,
        netns,
        address,
        cut: async () => {
          await ip(['-n', lanNs, 'link', 'set', port, 'down'])
        },
        restore: async () => {
          await ip(['-n', lanNs, 'link', 'set', port, 'up'])
        },
        enter: (command) => [`--net=/run/netns/${netns}`, '--', ...command],
      }
    },
  }
}
