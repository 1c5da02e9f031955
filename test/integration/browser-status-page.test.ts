/**
 * The status page in a real browser (Debian's chromium, driven by playwright-core; no browser
 * download): a real bridge, real heartbeats, and a page that must follow a breaking and healing
 * stack without being reloaded, by the stream and, when the stream is refused, by polling.
 * Screenshots land in test-output/browser/ for a person to look at.
 *
 * Without /usr/bin/chromium it skips with a printed reason; under CI=true or REQUIRE_DOCKER=1 it
 * fails instead (CI installs chromium with scripts/ci/install-browser.sh).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { bannerShows, chromiumAvailable, launchChromium, openPage } from '../helpers/browser.js'
import { startDeltaProxy } from '../helpers/delta-proxy.js'
import { memoryLogger } from '../helpers/log-sink.js'

const SHOTS = join(import.meta.dirname, '../../test-output/browser')
/** reducer's own heartbeat timeout: short, so its silence flips it during the test. */
const REDUCER_TIMEOUT_MS = 2000

const available = chromiumAvailable()

let browser: Browser
let dir: string
const bridges: RunningBridge[] = []

async function bridgeWith(env: Record<string, string> = {}): Promise<RunningBridge> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'off',
    CONFIG_FILE: join(dir, 'services.yaml'),
    ...env,
  })
  const bridge = await startBridge({ config, logger: memoryLogger('warn').logger })
  bridges.push(bridge)
  return bridge
}

function beater(bridge: RunningBridge) {
  return async (body: Record<string, unknown>): Promise<void> => {
    const res = await fetch(`${bridge.url}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(res.status).toBe(202)
  }
}

describe.skipIf(!available)('the status page in Chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hb-browser-'))
    writeFileSync(
      join(dir, 'services.yaml'),
      [
        'services:',
        '  database: { heartbeat: true }',
        '  queue: { heartbeat: true }',
        '  query-scheduler: { heartbeat: true, dependsOn: [database, queue] }',
        `  reducer: { heartbeat: true, heartbeatTimeout: ${REDUCER_TIMEOUT_MS}ms, dependsOn: [database] }`,
        '  webui: { heartbeat: true, dependsOn: [query-scheduler, reducer] }',
        '  db-table-creator: { role: job, heartbeat: true }',
        '',
      ].join('\n')
    )
    mkdirSync(SHOTS, { recursive: true })
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser.close()
    await Promise.all(bridges.splice(0).map((b) => b.stop()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('follows a stack breaking and healing, live, without a reload', async () => {
    const bridge = await bridgeWith()
    const beat = beater(bridge)
    for (const service of ['database', 'queue', 'query-scheduler', 'reducer', 'webui']) {
      await beat({ service })
    }
    await beat({ service: 'db-table-creator', status: 'succeeded' })
    // reducer has a short timeout: keep it beating until the test lets it fall silent.
    let reducerAlive = true
    const reducerBeats = setInterval(() => {
      if (reducerAlive) void beat({ service: 'reducer' })
    }, 400)

    const { page, problems, navigations, close } = await openPage(browser, bridge.url)
    try {
      expect(await bannerShows(page, 'healthy')).toMatch(/All 6 services healthy/)
      await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 })
      expect(await page.title()).toBe('✓ healthy · health-bridge')

      // The database breaks, with a message that is HTML; the scheduler follows.
      await beat({ service: 'database', error: 'cannot write "/var/lib/db": <b>disk full</b>' })
      await beat({ service: 'query-scheduler', error: 'cannot reach database' })
      const broken = await bannerShows(page, 'unhealthy')
      expect(broken).toMatch(/database is unhealthy; 1 service impacted/)
      const causes = await page.locator('.causes').innerText()
      expect(causes).toMatch(/Root cause: fix this first/i)
      expect(causes).toContain('database')
      expect(causes).toContain('cannot write "/var/lib/db": <b>disk full</b>')
      expect(causes).toMatch(/takes down: query-scheduler · puts at risk: reducer and webui/)
      // The message is text: no <b> element made it into the page.
      expect(await page.locator('#svc-database .msg b').count()).toBe(0)
      expect(await page.locator('#svc-query-scheduler .impact').innerText()).toContain(
        'probably because database is unhealthy (root cause)'
      )
      expect(await page.title()).toBe('✕ unhealthy · health-bridge')
      // Screen readers are told too.
      expect(await page.locator('#announce').textContent()).toMatch(
        /^unhealthy: database is unhealthy/
      )
      await page.screenshot({ path: join(SHOTS, 'status-page-broken.png'), fullPage: true })

      // It heals.
      await beat({ service: 'database' })
      await beat({ service: 'query-scheduler' })
      expect(await bannerShows(page, 'healthy')).toMatch(/All 6 services healthy/)

      // reducer falls silent: nobody calls the bridge, the deadline alone flips it.
      reducerAlive = false
      clearInterval(reducerBeats)
      await page.waitForSelector('#svc-reducer.s-unhealthy', { timeout: 15_000 })
      expect(await page.locator('#svc-reducer .msg').first().innerText()).toMatch(
        /no heartbeat for more than 2s/
      )
      await page.screenshot({ path: join(SHOTS, 'status-page-silent.png'), fullPage: true })
      await beat({ service: 'reducer' })
      await bannerShows(page, 'healthy')
      await page.waitForSelector('#changes-title')
      expect(await page.locator('.changes').innerText()).toMatch(/reducer\s+unhealthy → ✓ healthy/i)
      await page.screenshot({ path: join(SHOTS, 'status-page-recovered.png'), fullPage: true })

      expect(navigations()).toBe(1)
      expect(problems).toEqual([])
    } finally {
      clearInterval(reducerBeats)
      await close()
    }
  })

  it('falls back to polling when the stream is refused (MAX_STREAMS=0), and says so', async () => {
    const bridge = await bridgeWith({ MAX_STREAMS: '0' })
    const beat = beater(bridge)
    await beat({ service: 'database' })
    const { page, navigations, close } = await openPage(browser, bridge.url)
    try {
      await page.waitForSelector('#conn[data-state="polling"]', { timeout: 10_000 })
      expect(await page.locator('#conn').innerText()).toMatch(/Checking every 5 s/)
      await beat({ service: 'database', error: 'disk full' })
      expect(await bannerShows(page, 'unhealthy')).toMatch(/database is unhealthy/)
      expect(navigations()).toBe(1)
    } finally {
      await close()
    }
  })

  it('follows a stream that sends deltas (event: delta) just as one that sends documents', async () => {
    const bridge = await bridgeWith()
    const beat = beater(bridge)
    await beat({ service: 'database' })
    await beat({ service: 'webui' })
    // The bridge behind a proxy whose stream is a first document and then deltas only.
    const proxy = await startDeltaProxy(bridge.url)
    const { page, problems, navigations, close } = await openPage(browser, proxy.url)
    try {
      await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 })
      await beat({ service: 'database', error: 'disk full' })
      expect(await bannerShows(page, 'unhealthy')).toMatch(/database is unhealthy/)
      await beat({ service: 'database' })
      await bannerShows(page, 'starting')
      expect(proxy.sent.health).toBe(1)
      expect(proxy.sent.delta).toBeGreaterThanOrEqual(2)
      expect(navigations()).toBe(1)
      expect(problems).toEqual([])
    } finally {
      await close()
      await proxy.close()
    }
  })

  it("revalidates by itself: script gets a 200 from the browser's cache while the bridge sent 304", async () => {
    // What docs/webui.md promises a WebUI that polls without setting If-None-Match.
    const bridge = await bridgeWith()
    await beater(bridge)({ service: 'database' })
    const route = 'route="/health/services/:service",status_class="3xx"'
    const notModified = async () => {
      const text = await (await fetch(`${bridge.url}/metrics`)).text()
      const line = text.split('\n').find((l) => l.includes('_count{') && l.includes(route))
      return Number(line?.split(' ').at(-1) ?? 0)
    }
    const { page, close } = await openPage(browser, bridge.url)
    try {
      const before = await notModified()
      const seen = await page.evaluate(async () => {
        const a = await fetch('health/services/database')
        const b = await fetch('health/services/database')
        return { statuses: [a.status, b.status], same: (await a.text()) === (await b.text()) }
      })
      expect(seen).toEqual({ statuses: [200, 200], same: true })
      expect((await notModified()) - before).toBe(1)
    } finally {
      await close()
    }
  })

  it('shows the current state without JavaScript', async () => {
    const bridge = await bridgeWith()
    const beat = beater(bridge)
    await beat({ service: 'database', error: 'disk full' })
    const { page, close } = await openPage(browser, bridge.url, { javaScriptEnabled: false })
    try {
      const banner = await page.locator('.banner').innerText()
      expect(banner).toMatch(/unhealthy/i)
      expect(await page.locator('.causes').innerText()).toContain('disk full')
      expect(await page.locator('#conn').innerText()).toMatch(/reload for news/)
      await page.screenshot({ path: join(SHOTS, 'status-page-no-js.png'), fullPage: true })
    } finally {
      await close()
    }
  })

  it('says when the bridge is gone, and keeps the last state visible', async () => {
    const bridge = await bridgeWith()
    await beater(bridge)({ service: 'database' })
    const { page, close } = await openPage(browser, bridge.url)
    try {
      await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 })
      await bridge.stop()
      await page.waitForSelector('#conn[data-state="offline"]', { timeout: 15_000 })
      expect(await page.locator('#conn').innerText()).toMatch(/Cannot reach the bridge/)
      // The last state stays, greyed, rather than a blank page.
      expect(await page.locator('.banner').innerText()).toMatch(/starting/i)
      expect(await page.locator('body.stale #svc-database').count()).toBe(1)
      await page.screenshot({ path: join(SHOTS, 'status-page-offline.png'), fullPage: true })
    } finally {
      await close()
    }
  })
})
