/**
 * The WebUI path, the CLP way, against a bridge running over real HTTP: generate types with the
 * openapi-typescript CLI from the bridge's own /openapi.json (as CLP's api-client generates its
 * schema.ts), type-check a consumer written like CLP's WebUI (openapi-fetch, eventsource-parser
 * over `parseAs: 'stream'`, react-query `queryOptions`, a hook and an indicator component;
 * test/fixtures/webui-consumer/) and misuse that must not compile, then run the consumer.
 * The served document also passes Redocly's recommended rules.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'

import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { lintOpenApi } from '../../scripts/lint-openapi.js'
import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { startDeltaProxy } from '../helpers/delta-proxy.js'
import { memoryLogger } from '../helpers/log-sink.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '../..')
const FIXTURE = join(ROOT, 'test/fixtures/webui-consumer')
const OUT = join(ROOT, 'test-output/webui-consumer')
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name)

let bridge: RunningBridge

async function beat(body: object): Promise<void> {
  const res = await fetch(`${bridge.url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(202)
}

/** The consumer's compiler settings: a browser app's (no Node types), strict, React JSX. */
function writeTsconfig(): void {
  const client = relative(OUT, join(ROOT, 'src/client/index.ts'))
  const tsconfig = {
    compilerOptions: {
      strict: true,
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      lib: ['es2022', 'dom', 'dom.iterable'],
      jsx: 'react-jsx',
      types: [],
      skipLibCheck: true,
      noEmit: true,
      // What `npm install @health-bridge/client` gives a WebUI: this repository's client.
      paths: { '@health-bridge/client': [client] },
    },
    include: ['src'],
  }
  writeFileSync(join(OUT, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
}

function diagnostics(files?: string[]): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(OUT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      },
    }
  )
  if (!parsed) throw new Error('no tsconfig')
  const program = ts.createProgram(files ?? parsed.fileNames, parsed.options)
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${relative(OUT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : ''
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

beforeAll(async () => {
  // Heartbeats must not go stale while the app compiles on a loaded machine: time is not what
  // this test is about.
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'off',
    HEARTBEAT_TIMEOUT: '10m',
  })
  bridge = await startBridge({ config, logger: memoryLogger('warn').logger })
  await beat({ service: 'database', error: 'disk full' })
  await beat({ service: 'webui' })
  await beat({ service: 'reducer' })

  rmSync(OUT, { recursive: true, force: true })
  mkdirSync(OUT, { recursive: true })
  cpSync(FIXTURE, OUT, { recursive: true })
  writeFileSync(join(OUT, 'package.json'), '{ "type": "module", "private": true }\n')
  writeTsconfig()
  // As CLP's api-client does: `openapi-typescript <document> -o src/schema.ts`, here from the
  // running bridge.
  await run(bin('openapi-typescript'), [
    `${bridge.url}/openapi.json`,
    '-o',
    join(OUT, 'src/schema.d.ts'),
  ])
}, 60_000)

afterAll(async () => {
  await bridge.stop()
})

describe('a WebUI consumer written the CLP way', () => {
  it('type-checks against types generated from the running bridge', () => {
    expect(diagnostics()).toEqual([])
  })

  it('cannot misuse them: every line of misuse.ts is an error', () => {
    const errors = diagnostics([join(OUT, 'misuse.ts')])
    const lines = [...new Set(errors.map((e) => e.split(' ')[0]))]
    expect(lines, errors.join('\n')).toEqual([
      'misuse.ts:8',
      'misuse.ts:9',
      'misuse.ts:10',
      'misuse.ts:11',
      'misuse.ts:12',
      'misuse.ts:13',
    ])
  })

  it('runs: the unhealthy document as data, typed paths, 304s handled, the stream followed', async () => {
    const { stdout } = await run(bin('tsx'), [join(OUT, 'src/main.ts'), bridge.url], {
      cwd: OUT,
      timeout: 30_000,
    })
    const result = JSON.parse(stdout) as Record<string, Record<string, unknown>>
    expect(result['stack']).toEqual({
      status: 'unhealthy',
      services: ['database', 'reducer', 'webui'],
    })
    expect(result['database']).toEqual({
      name: 'database',
      status: 'unhealthy',
      message: 'disk full',
    })
    expect(result['history']).toEqual(['database none -> unhealthy'])
    // Without statusCode=200 the document is a 503 in openapi-fetch's error.
    expect(result['plain']).toEqual({ status: 503, inError: 'unhealthy' })
    expect(result['revalidation']).toEqual({ wire: [200, 304], same: true, status: 200 })
    const stream = result['stream'] ?? {}
    // Whole documents or deltas, whichever the bridge sends: the first is always whole.
    expect((stream['events'] as string[])[0]).toBe('health')
    expect(stream['reducer']).toBe('unhealthy')
    expect(stream['lastId']).toBe(stream['etagNow'])
    expect(stream['sameStatuses']).toBe(true)
    process.stderr.write(`[webui consumer] stream events: ${String(stream['events'])}\n`)
  })

  it('follows a stream of deltas too (the bridge behind a proxy that sends only deltas)', async () => {
    await beat({ service: 'reducer' })
    const proxy = await startDeltaProxy(bridge.url)
    try {
      const { stdout } = await run(bin('tsx'), [join(OUT, 'src/main.ts'), proxy.url], {
        cwd: OUT,
        timeout: 30_000,
      })
      const stream = (JSON.parse(stdout) as Record<string, Record<string, unknown>>)['stream'] ?? {}
      expect(stream['events']).toEqual(['health', 'delta'])
      expect(stream['reducer']).toBe('unhealthy')
      expect(stream['lastId']).toBe(stream['etagNow'])
      expect(stream['sameStatuses']).toBe(true)
    } finally {
      await proxy.close()
    }
  })

  it("the served document passes Redocly's recommended rules", async () => {
    const served = (await (await fetch(`${bridge.url}/openapi.json`)).json()) as unknown
    expect((await lintOpenApi(served)).problems).toEqual([])
  })
})
