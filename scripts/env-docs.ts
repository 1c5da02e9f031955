/**
 * `npm run docs:env`: writes the README's configuration table and `.env.example` from the one
 * table of variables (src/config/env.ts). `--check` only compares, for CI: a variable added to
 * the schema and not to the docs, or the other way round, fails the build.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { format, resolveConfig } from 'prettier'

import { SECTIONS, VARIABLES, type Variable } from '../src/config/env.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const README = join(ROOT, 'README.md')
const ENV_EXAMPLE = join(ROOT, '.env.example')
export const START =
  '<!-- env:start (npm run docs:env writes this table from src/config/env.ts) -->'
export const END = '<!-- env:end -->'

const entries = (): [string, Variable][] => Object.entries(VARIABLES)

export async function readmeTable(): Promise<string> {
  const rows = entries().map(([name, v]) => `| \`${name}\` | ${v.shown} | ${v.doc} |`)
  const table = ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n')
  const options = (await resolveConfig(README)) ?? {}
  return (await format(table, { ...options, parser: 'markdown' })).trimEnd()
}

function wrap(text: string, width = 96): string[] {
  const lines: string[] = []
  let line = '#'
  for (const word of text.replace(/`/g, '').split(' ')) {
    if (line.length + word.length + 1 > width && line !== '#') {
      lines.push(line)
      line = '#'
    }
    line += ` ${word}`
  }
  lines.push(line)
  return lines
}

const HEADER = `# health-bridge configuration. Every variable is optional; the values shown are the defaults.
# An invalid value stops start-up with one line naming the variable. Empty means "not set".
# Durations accept 500ms, 30s, 15m, 1h, 1m30s or plain seconds.
# Written by \`npm run docs:env\` from src/config/env.ts: edit that, not this file.`

const COMPOSE_TAIL = `# --- compose/health-bridge.yaml (read by \`docker compose\`, not by the bridge) -----------------
# When the bridge runs from the compose snippet, these go in the compose project's .env; the
# snippet passes the HEALTH_BRIDGE_* ones on as the variables above (docs/deployment.md).
# Required: the group id that owns the Docker socket (stat -c %g /var/run/docker.sock).
# DOCKER_GID=
# HEALTH_BRIDGE_IMAGE=health-bridge:0.1.0
# HEALTH_BRIDGE_PORT=8080
# HEALTH_BRIDGE_BIND=127.0.0.1
# HEALTH_BRIDGE_DOCKER_SOCKET=/var/run/docker.sock`

export function envExample(): string {
  const parts = [HEADER]
  for (const section of SECTIONS) {
    const lines = [`# --- ${section} `.padEnd(96, '-')]
    for (const [name, v] of entries()) {
      if (v.section !== section) continue
      lines.push(...wrap(`${v.doc[0]?.toUpperCase() ?? ''}${v.doc.slice(1)}.`))
      if (v.example === '' && !v.shown.startsWith('unset'))
        lines.push(`# Unset: ${v.shown.replace(/`/g, '')}.`)
      lines.push(`${name}=${v.example}`)
    }
    parts.push(lines.join('\n'))
  }
  parts.push(COMPOSE_TAIL)
  return `${parts.join('\n\n')}\n`
}

/** The README with its table between the markers replaced. */
export async function readmeWithTable(readme: string): Promise<string> {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end < start) throw new Error(`README.md has no ${START} ... ${END} markers`)
  return `${readme.slice(0, start + START.length)}\n\n${await readmeTable()}\n\n${readme.slice(end)}`
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check')
  const readme = readFileSync(README, 'utf8')
  const wantReadme = await readmeWithTable(readme)
  const wantEnv = envExample()
  if (check) {
    const stale = [
      ...(readme === wantReadme ? [] : ['README.md']),
      ...(readFileSync(ENV_EXAMPLE, 'utf8') === wantEnv ? [] : ['.env.example']),
    ]
    if (stale.length > 0) {
      process.stderr.write(`docs:env: ${stale.join(' and ')} out of date; run npm run docs:env\n`)
      process.exit(1)
    }
    return
  }
  writeFileSync(README, wantReadme)
  writeFileSync(ENV_EXAMPLE, wantEnv)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
