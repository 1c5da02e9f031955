/**
 * The image's HEALTHCHECK: `node dist/healthcheck.js` asks the bridge's own `GET /health/live`
 * and exits 0 on 200, 1 otherwise, so the image needs no curl. Liveness only: it must stay
 * healthy while the Docker engine is down, or the restart policy would restart the bridge in the
 * very outage it should report. The one line it prints lands in `docker inspect`'s health log.
 */
import { request } from 'node:http'

import { ConfigError, livenessUrl } from './config/config.js'

/**
 * Below the healthcheck's `timeout` (5 s) with room for node's own start on a busy host, so a
 * hung server reads as a failed probe with a reason rather than as a probe killed by Docker.
 */
const PROBE_TIMEOUT_MS = 2500

/** Resolves to null when `url` answered 200 within `timeoutMs`, else to what went wrong. */
function probe(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode === 200 ? null : `${url} answered HTTP ${res.statusCode ?? '?'}`)
    })
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`))
    })
    req.on('error', (err) => {
      resolve(`${url}: ${err.message}`)
    })
    req.end()
  })
}

async function main(): Promise<void> {
  let url: string
  try {
    url = livenessUrl()
  } catch (err) {
    process.stderr.write(
      `health-bridge healthcheck: ${err instanceof ConfigError ? err.message : String(err)}\n`
    )
    process.exit(1)
  }
  const problem = await probe(url)
  if (problem === null) {
    process.stdout.write('live\n')
    process.exit(0)
  }
  process.stderr.write(`health-bridge healthcheck: ${problem}\n`)
  process.exit(1)
}

void main()
