/**
 * The environment variables are documented in one place (src/config/env.ts); everything that
 * lists them is written from it or checked against it here.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { VARIABLES } from '../../src/config/env.js'
import { envExample, readmeWithTable } from '../../scripts/env-docs.js'
import { REPO_ROOT } from '../helpers/docker.js'

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8')

describe('the documentation of environment variables', () => {
  it('README.md and .env.example are what npm run docs:env writes', async () => {
    const readme = read('README.md')
    expect(await readmeWithTable(readme)).toBe(readme)
    expect(read('.env.example')).toBe(envExample())
  })

  it('the compose snippets set only variables the bridge reads', () => {
    const files = readdirSync(join(REPO_ROOT, 'compose'), { recursive: true, encoding: 'utf8' })
      // The bridge's own snippets (the demo's stand-ins have variables of their own).
      .filter((f) => /(^|\/)(health-bridge|hub|worker)[^/]*\.ya?ml$/.test(f))
      .map((f) => `compose/${f}`)
    const known = new Set(Object.keys(VARIABLES))
    const unknown: string[] = []
    for (const file of files) {
      // Keys of an `environment:` map: `      NAME: value` lines inside it.
      const text = read(file)
      for (const block of text.matchAll(/^(\s*)environment:\n((?:\1\s+.*\n)+)/gm)) {
        for (const m of (block[2] ?? '').matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)) {
          const name = m[1] ?? ''
          if (!known.has(name)) {
            unknown.push(`${file}: ${name}`)
          }
        }
      }
    }
    expect(unknown).toEqual([])
  })
})
