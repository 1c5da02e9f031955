/**
 * Debian's chromium, driven by playwright-core (no browser download), for the status-page tests.
 * Without /usr/bin/chromium they skip with a printed reason; under CI=true or REQUIRE_DOCKER=1
 * they fail instead (CI installs chromium with scripts/ci/install-browser.sh).
 */
import { existsSync } from 'node:fs'

import { chromium, type Browser, type Page } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'
const MUST_RUN = process.env['CI'] === 'true' || process.env['REQUIRE_DOCKER'] === '1'

/** Whether the browser tests can run here; says why not (or throws where they must). */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true
  const reason = `${CHROMIUM} not found (install it with scripts/ci/install-browser.sh)`
  if (MUST_RUN) throw new Error(`the browser test must run under CI/REQUIRE_DOCKER, but ${reason}`)
  process.stderr.write(`\n[browser tests skipped] ${reason}\n`)
  return false
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export interface OpenedPage {
  page: Page
  /** Page errors and console errors (a refused stream's 429 aside). */
  problems: string[]
  /** Main-frame navigations so far: 1 means the page was never reloaded. */
  navigations: () => number
  close: () => Promise<void>
}

export async function openPage(
  browser: Browser,
  url: string,
  opts: { javaScriptEnabled?: boolean; width?: number; height?: number } = {}
): Promise<OpenedPage> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1100, height: opts.height ?? 900 },
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
  })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('429')) problems.push(`console: ${m.text()}`)
  })
  let navigations = 0
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++
  })
  await page.goto(`${url}/`)
  return { page, problems, navigations: () => navigations, close: () => context.close() }
}

/** Waits until the page's overall banner shows `status`, and returns its text. */
export async function bannerShows(page: Page, status: string): Promise<string> {
  await page.waitForFunction(
    (s) => document.querySelector('.banner')?.classList.contains(`s-${s}`) === true,
    status,
    { timeout: 15_000 }
  )
  return page.locator('.banner').innerText()
}
