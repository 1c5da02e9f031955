/**
 * The status page on a phone (390 px) and on a desktop (1100 px), in Chromium: nothing scrolls
 * sideways, however long the names, ids and errors are, and a long error is printed in full
 * once, collapsed everywhere else it would repeat (opening a collapsed one shows it, and it
 * stays open across live updates). Screenshots land in test-output/browser/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { bannerShows, chromiumAvailable, launchChromium, openPage } from '../helpers/browser.js'
import { memoryLogger } from '../helpers/log-sink.js'

const SHOTS = join(import.meta.dirname, '../../test-output/browser')
const available = chromiumAvailable()

/** 300+ characters, with a 70-character word (a path) that cannot wrap at a space. */
const DB_ERROR =
  'failed to open /var/lib/clp/database/archives/2026-11-21/segment-000000000017/index.sqlite-wal-journal: ' +
  'disk quota exceeded while compacting; retried 5 times with backoff, giving up until an operator frees space ' +
  'on the volume mounted at /var/lib/clp (see the database container log for the full stack trace)'
const WORKER_ERROR =
  'worker process exited: java.lang.OutOfMemoryError: Java heap space while decoding archive 42 ' +
  '(consider raising the memory limit of query-worker)'
const CONTAINER_ID = 'f'.repeat(64)

let browser: Browser
let bridge: RunningBridge
let dir: string

async function beat(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${bridge.url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(202)
}

/** How often `text` is printed on the page, as a reader sees it (closed details hide text). */
function printed(page: Page, text: string): Promise<number> {
  return page.evaluate((t) => document.body.innerText.split(t).length - 1, text)
}

function layout(page: Page) {
  return page.evaluate(() => ({
    viewport: window.innerWidth,
    page: document.documentElement.scrollWidth,
    row: getComputedStyle(document.querySelector('.fine-table tr') ?? document.body).display,
    // Anything drawn past the right edge (a clipped overflow would hide from scrollWidth).
    overflowing: Array.from(document.querySelectorAll('#live *'))
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
      .slice(0, 5),
  }))
}

describe.skipIf(!available)('the status page at phone and desktop widths', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hb-layout-'))
    const services = [
      'database',
      'query-scheduler',
      'query-worker',
      'compression-scheduler-with-a-rather-long-service-name',
      'reducer',
      'webui',
      'results-cache',
    ]
    const dependsOn: Record<string, string> = { 'query-scheduler': ', dependsOn: [database]' }
    writeFileSync(
      join(dir, 'services.yaml'),
      ['services:', ...services.map((s) => `  ${s}: { heartbeat: true${dependsOn[s] ?? ''} }`)]
        .join('\n')
        .concat('\n')
    )
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DOCKER: 'off',
      CONFIG_FILE: join(dir, 'services.yaml'),
    })
    bridge = await startBridge({ config, logger: memoryLogger('warn').logger })
    const replicated = new Set(['results-cache', 'query-worker'])
    for (const service of services) if (!replicated.has(service)) await beat({ service })
    // Healthy replicas with long ids; a worker with one broken replica; the database down.
    await beat({ service: 'results-cache', instance: CONTAINER_ID })
    await beat({ service: 'results-cache', instance: `${CONTAINER_ID.slice(0, 60)}beef` })
    await beat({ service: 'query-worker', instance: 'query-worker-1' })
    await beat({ service: 'query-worker', instance: 'query-worker-2', error: WORKER_ERROR })
    await beat({ service: 'database', error: DB_ERROR })
    mkdirSync(SHOTS, { recursive: true })
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser.close()
    await bridge.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each([
    [390, 844],
    [1100, 900],
  ])('at %i px: no sideways scroll, and each long error printed once', async (width, height) => {
    const { page, problems, close } = await openPage(browser, bridge.url, { width, height })
    try {
      await bannerShows(page, 'unhealthy')
      await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 })
      const before = await layout(page)
      process.stderr.write(`[layout] ${width} px: page ${before.page} px wide\n`)
      expect(before.overflowing).toEqual([])
      expect(before.page).toBeLessThanOrEqual(before.viewport)
      // Phones stack the tables' rows; desktops keep them as tables.
      expect(before.row).toBe(width < 640 ? 'flex' : 'table-row')

      // The database's error: in the root-cause box, and nowhere else in full (its card, its
      // instance and the recent changes collapse it). The worker's: in its card only.
      expect(await printed(page, DB_ERROR)).toBe(1)
      expect(await page.locator('.causes').innerText()).toContain(DB_ERROR)
      expect(await printed(page, WORKER_ERROR)).toBe(1)
      expect(await page.locator('#svc-query-worker > .msg').innerText()).toContain(WORKER_ERROR)
      const collapsed = page.locator('#svc-database details.long')
      expect(await collapsed.count()).toBe(1)
      await page.screenshot({ path: join(SHOTS, `status-page-${width}.png`), fullPage: true })

      // Opening a collapsed one shows it; it stays open when the live part is swapped.
      await collapsed.locator('summary').click()
      expect(await printed(page, DB_ERROR)).toBe(2)
      await beat({ service: 'webui', error: 'cannot reach query-scheduler' })
      await page.waitForSelector('#svc-webui.s-unhealthy', { timeout: 10_000 })
      expect(await page.locator('#svc-database details.long').getAttribute('open')).toBe('')
      expect((await layout(page)).page).toBeLessThanOrEqual(width)
      await beat({ service: 'webui' })
      expect(problems).toEqual([])
    } finally {
      await close()
    }
  })
})
