/**
 * `npm run lint:openapi`: GET /openapi.json against Redocly's `recommended` rules, with no
 * problem allowed (warnings count: Redocly itself exits 0 on warnings). Uses the pinned
 * `@redocly/cli` from node_modules, offline: telemetry and the update check are turned off, so
 * the lint never reaches the network. `src/http/openapi.test.ts` runs the same check.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

import { buildOpenApiDocument } from '../src/http/openapi.js'
import { VERSION } from '../src/version.js'

export interface LintResult {
  errors: number
  warnings: number
  /** One line per problem: `rule: message at pointer`. */
  problems: string[]
}

interface RedoclyJson {
  totals: { errors: number; warnings: number }
  problems: { ruleId: string; message: string; location: { pointer?: string }[] }[]
}

/** Env that keeps the CLI off the network: no usage telemetry, no "new version" check. */
export const REDOCLY_OFFLINE = {
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
}

export async function lintOpenApi(document: unknown): Promise<LintResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hb-openapi-lint-'))
  try {
    const file = join(dir, 'openapi.json')
    writeFileSync(file, JSON.stringify(document))
    const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js')
    const args = [cli, 'lint', '--extends', 'recommended', '--format', 'json', file]
    // Exit 1 means "errors found"; the JSON report on stdout says which.
    const { stdout } = await promisify(execFile)(process.execPath, args, {
      env: { ...process.env, ...REDOCLY_OFFLINE },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: unknown) => err as { stdout: string })
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as RedoclyJson
    return {
      errors: report.totals.errors,
      warnings: report.totals.warnings,
      problems: report.problems.map(
        (p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`
      ),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await lintOpenApi(buildOpenApiDocument(VERSION))
  for (const p of result.problems) process.stdout.write(`${p}\n`)
  process.stdout.write(
    `openapi.json: ${result.errors} errors, ${result.warnings} warnings (Redocly recommended)\n`
  )
  process.exitCode = result.problems.length === 0 ? 0 : 1
}
