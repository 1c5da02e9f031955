/**
 * The status page's script, as `npm run build:page` bundles it (esbuild, from src/page/browser/)
 * into `dist/assets/page.js`. The path is reached the same way from src/page/ (tests, tsx) and
 * from dist/page/ (the built bridge), so both find the one bundle.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const PAGE_JS_PATH = fileURLToPath(new URL('../../dist/assets/page.js', import.meta.url))

let cached: string | undefined

/** The bundle, read once; a missing bundle stops the bridge with the command that makes it. */
export function pageScript(): string {
  if (cached !== undefined) return cached
  try {
    cached = readFileSync(PAGE_JS_PATH, 'utf8')
  } catch (err) {
    throw new Error(
      `the status page's script is not built (${PAGE_JS_PATH}): run npm run build:page`,
      { cause: err }
    )
  }
  return cached
}
