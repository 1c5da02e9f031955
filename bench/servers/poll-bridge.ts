/**
 * The baseline that most tools implement (autoheal and friends): every POLL_MS, list the
 * project's containers and inspect each one, and serve what the last poll saw. Its detection
 * latency is the polling period; its cost on the engine is (1 list + N inspects) per period.
 *
 * Environment: PORT, PROJECT, DOCKER_SOCKET, POLL_MS (default 5000).
 * GET /health -> {"polledAt": ..., "containers": {"<name>": {"state", "health", "exitCode"}}}
 */
import { createServer, request } from 'node:http'

const env = process.env
const socketPath = env.DOCKER_SOCKET ?? '/var/run/docker.sock'
const pollMs = Number(env.POLL_MS ?? 5000)
const filters = encodeURIComponent(
  JSON.stringify({ label: [`com.docker.compose.project=${env.PROJECT ?? ''}`] })
)

function get<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, timeout: 10_000 }, (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (data += c))
      res.on('end', () => {
        try {
          resolve(JSON.parse(data) as T)
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)))
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

interface Inspect {
  Name: string
  State: { Status: string; ExitCode: number; Health?: { Status: string } }
}

let body = JSON.stringify({ polledAt: null, containers: {} })

async function poll(): Promise<void> {
  const list = await get<{ Id: string }[]>(`/v1.41/containers/json?all=1&filters=${filters}`)
  const containers: Record<string, { state: string; health: string; exitCode: number }> = {}
  for (const c of list) {
    const i = await get<Inspect>(`/v1.41/containers/${c.Id}/json`)
    containers[i.Name.replace(/^\//, '')] = {
      state: i.State.Status,
      health: i.State.Health?.Status ?? 'none',
      exitCode: i.State.ExitCode,
    }
  }
  body = JSON.stringify({ polledAt: new Date().toISOString(), containers })
}

async function loop(): Promise<void> {
  for (;;) {
    const started = Date.now()
    await poll().catch((err: unknown) => {
      process.stderr.write(`poll failed: ${String(err)}\n`)
    })
    await new Promise((r) => setTimeout(r, Math.max(0, pollMs - (Date.now() - started))))
  }
}

createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(req.url?.startsWith('/health') ? body : '{}')
}).listen(Number(env.PORT), '127.0.0.1', () => {
  void loop()
})
process.on('SIGTERM', () => process.exit(0))
