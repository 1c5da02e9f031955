// A minimal, allowlisting Docker socket proxy: TEST AND DEMO PLUMBING, not a product.
//
// It exists so that compose/health-bridge.socket-proxy.yaml can run end to end where no proxy
// image can be pulled (offline CI). In production use wollomatic/socket-proxy, which that file
// names. This script understands the subset of wollomatic's flags that file uses, with the same
// meaning, so the compose file is the same for both:
//
//   -listenip=0.0.0.0 -proxyport=2375       where to listen (TCP)
//   -socketpath=/var/run/docker.sock         the engine's socket
//   -allowfrom=health-bridge,10.0.0.0/8      clients allowed to connect: hostnames, IPs, CIDRs
//   -allowGET=<regex> -allowHEAD=<regex>     per method, the paths allowed (anchored: ^...$,
//                                            matched against the path without the query)
//   -watchdoginterval=30 -stoponwatchdog     ping the engine every N s; exit 1 when it fails
//   -allowhealthcheck                        answer GET http://127.0.0.1:55555/health
//   -shutdowngracetime=2 -loglevel=info      (info or debug)
//   -healthcheck                             run as the healthcheck client instead (exit 0/1)
//
// Everything else is denied: another method is 405, another path 403, another client 403.
// An unknown flag stops it at start-up: a misspelt allowlist must not mean "allow".
import { lookup } from 'node:dns/promises'
import { request as httpRequest, createServer } from 'node:http'
import { BlockList, isIP } from 'node:net'
import process from 'node:process'
import { setInterval, setTimeout } from 'node:timers'
import { URL } from 'node:url'

const HEALTHCHECK_PORT = 55555

function parseFlags(argv) {
  const flags = {
    listenip: '127.0.0.1',
    proxyport: 2375,
    socketpath: '/var/run/docker.sock',
    allowfrom: ['127.0.0.1/32'],
    allow: { GET: [], HEAD: [] },
    watchdoginterval: 0,
    stoponwatchdog: false,
    allowhealthcheck: false,
    shutdowngracetime: 10,
    loglevel: 'info',
    healthcheck: false,
  }
  for (const arg of argv) {
    const m = /^--?([A-Za-z]+)(?:=(.*))?$/s.exec(arg)
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(arg)}`)
    const [, name, value] = m
    const need = () => {
      if (value === undefined || value === '') throw new Error(`-${name} needs a value`)
      return value
    }
    switch (name) {
      case 'listenip':
        flags.listenip = need()
        break
      case 'proxyport':
      case 'watchdoginterval':
      case 'shutdowngracetime': {
        const n = Number(need())
        if (!Number.isInteger(n) || n < 0) throw new Error(`-${name} must be a whole number`)
        flags[name] = n
        break
      }
      case 'socketpath':
        flags.socketpath = need()
        break
      case 'allowfrom':
        flags.allowfrom = need()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
        break
      case 'allowGET':
      case 'allowHEAD':
        flags.allow[name.slice('allow'.length)].push(new RegExp(`^(?:${need()})$`))
        break
      case 'stoponwatchdog':
      case 'allowhealthcheck':
      case 'healthcheck':
        flags[name] = value === undefined || value === 'true'
        break
      case 'loglevel':
        flags.loglevel = need().toLowerCase()
        break
      default:
        throw new Error(
          `unsupported flag -${name} (this test proxy knows only the flags listed at its top)`
        )
    }
  }
  return flags
}

function log(level, msg, fields = {}) {
  if (level === 'debug' && flags.loglevel !== 'debug') return
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`
  )
}

/** Allowed clients: IPs and CIDRs directly, hostnames resolved per connection (IPs change). */
function clientCheck(entries) {
  const blocks = new BlockList()
  const hostnames = []
  for (const e of entries) {
    const [addr, bits] = e.split('/')
    const family = isIP(addr)
    if (family === 0) hostnames.push(e)
    else if (bits === undefined) blocks.addAddress(addr, family === 6 ? 'ipv6' : 'ipv4')
    else blocks.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4')
  }
  return async (remote) => {
    const ip = remote.startsWith('::ffff:') ? remote.slice('::ffff:'.length) : remote
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4'
    if (blocks.check(ip, family)) return true
    for (const host of hostnames) {
      try {
        const addrs = await lookup(host, { all: true })
        if (addrs.some((a) => a.address === ip)) return true
      } catch {
        // Not resolvable right now (the client is not running): not allowed.
      }
    }
    return false
  }
}

function deny(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(`${JSON.stringify({ message })}\n`)
}

function pingEngine(timeoutMs = 3000) {
  return new Promise((resolve) => {
    const req = httpRequest(
      { socketPath: flags.socketpath, path: '/_ping', timeout: timeoutMs },
      (res) => {
        res.resume()
        resolve(res.statusCode === 200)
      }
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}

function runHealthcheckClient() {
  const req = httpRequest(
    { host: '127.0.0.1', port: HEALTHCHECK_PORT, path: '/health', timeout: 3000 },
    (res) => {
      res.resume()
      process.exit(res.statusCode === 200 ? 0 : 1)
    }
  )
  req.on('timeout', () => req.destroy())
  req.on('error', () => process.exit(1))
  req.end()
}

let flags
try {
  flags = parseFlags(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`allowlist-proxy: ${err.message}\n`)
  process.exit(2)
}
if (flags.healthcheck) {
  runHealthcheckClient()
} else {
  const allowedClient = clientCheck(flags.allowfrom)

  const server = createServer(async (req, res) => {
    const remote = req.socket.remoteAddress ?? ''
    const path = new URL(req.url ?? '/', 'http://proxy').pathname
    if (!(await allowedClient(remote))) {
      log('warn', 'client not allowed', { remote, method: req.method, path })
      return deny(res, 403, 'forbidden: client not allowed')
    }
    const patterns = flags.allow[req.method ?? '']
    if (patterns === undefined || patterns.length === 0) {
      log('warn', 'method not allowed', { remote, method: req.method, path })
      return deny(res, 405, 'method not allowed')
    }
    if (!patterns.some((p) => p.test(path))) {
      log('warn', 'path not allowed', { remote, method: req.method, path })
      return deny(res, 403, 'forbidden: path not allowed')
    }
    log('debug', 'allowed', { remote, method: req.method, path })
    const upstream = httpRequest(
      { socketPath: flags.socketpath, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        // The engine sends /events headers at once and events only when they happen: pass the
        // headers on now, then every chunk as it comes. No timeout cuts an idle stream.
        res.flushHeaders()
        up.pipe(res)
      }
    )
    upstream.on('error', (err) => {
      log('error', 'engine unreachable', { error: err.message })
      if (!res.headersSent) deny(res, 502, `engine unreachable: ${err.message}`)
      else res.destroy()
    })
    res.on('close', () => upstream.destroy())
    req.pipe(upstream)
  })
  server.requestTimeout = 0
  server.listen(flags.proxyport, flags.listenip, () => {
    log('info', 'listening', {
      address: `${flags.listenip}:${flags.proxyport}`,
      socket: flags.socketpath,
      allowfrom: flags.allowfrom,
      allowGET: flags.allow.GET.map(String),
      allowHEAD: flags.allow.HEAD.map(String),
    })
  })

  let health
  if (flags.allowhealthcheck) {
    health = createServer(async (req, res) => {
      const ok = req.url === '/health' && (await pingEngine())
      res.writeHead(ok ? 200 : 503).end()
    })
    health.listen(HEALTHCHECK_PORT, '127.0.0.1')
  }

  if (flags.watchdoginterval > 0) {
    // The engine recreates its socket file on restart; a bind mount keeps the dead one. Exiting
    // lets the restart policy mount the new one.
    setInterval(async () => {
      if (await pingEngine()) return
      log('error', 'watchdog: engine socket not answering', { socket: flags.socketpath })
      if (flags.stoponwatchdog) process.exit(1)
    }, flags.watchdoginterval * 1000).unref()
  }

  const shutdown = () => {
    server.close()
    health?.close()
    server.closeAllConnections()
    setTimeout(() => process.exit(0), flags.shutdowngracetime * 1000).unref()
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}
