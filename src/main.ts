/**
 * The process: configuration (a bad value stops start-up with one line), the logger, the bridge,
 * and signals (the first SIGTERM/SIGINT shuts down gracefully, a second one exits at once).
 */
import { ConfigError, loadConfig, type Config } from './config/config.js'
import { createLogger } from './logger.js'
import { startBridge } from './bridge.js'

/** Shutdown must finish within this even if something hangs (compose waits 10 s, we promise 2). */
const SHUTDOWN_DEADLINE_MS = 1800

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`health-bridge: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const logger = createLogger({ level: config.logLevel })

  let bridge: Awaited<ReturnType<typeof startBridge>>
  try {
    bridge = await startBridge({
      config,
      logger,
      onGiveUp: (reason) => {
        logger.error(
          { reason },
          'giving up on the docker engine; exiting so the restart policy re-mounts the socket'
        )
        void shutdown(70)
      },
    })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    logger.fatal({ err }, 'start-up failed')
    process.stderr.write(`health-bridge: ${message}\n`)
    process.exit(1)
  }

  let exiting = false
  async function shutdown(code: number): Promise<void> {
    if (exiting) return
    exiting = true
    const force = setTimeout(() => {
      logger.warn('shutdown took too long; exiting now')
      process.exit(code)
    }, SHUTDOWN_DEADLINE_MS)
    force.unref()
    await bridge.stop()
    logger.info({ code }, 'health-bridge stopped')
    process.exit(code)
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (exiting) process.exit(130)
      logger.info({ signal }, 'shutting down')
      void shutdown(0)
    })
  }
}

void main()
