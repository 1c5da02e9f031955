/**
 * `@health-bridge/client` as a WebUI gets it: `npm pack` (which builds it), `npm install` of the
 * tarball into an empty app outside this repository, then the app's TypeScript is type-checked
 * against the installed declarations, compiled, and run against a real bridge over HTTP.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { memoryLogger } from '../helpers/log-sink.js'

const run = promisify(execFile)
const PACKAGE_DIR = join(import.meta.dirname, '../../packages/client')

/** What a WebUI would write: the types it relies on, and calls against a live bridge. */
const APP = `
import {
  applyDelta,
  createHealthClient,
  subscribeHealth,
  summarize,
  type HealthBridgePaths,
  type HealthDelta,
  type HealthDocument,
  type ServiceSummary,
} from '@health-bridge/client'

type Polled = HealthBridgePaths['/health']['get']['responses'][200]['content']['application/json']
const check: (doc: Polled) => HealthDocument = (doc) => doc

const bridge = createHealthClient({ baseUrl: process.argv[2] ?? '' })
const { doc, etag } = await bridge.fetchHealth()
const again = await bridge.fetchHealth()
const summary = summarize(check(doc))
const worst: ServiceSummary | undefined = summary.services[0]

const first = await new Promise<HealthDocument>((resolve) => {
  const sub = subscribeHealth({
    baseUrl: process.argv[2] ?? '',
    onHealth: (d) => {
      sub.close()
      resolve(d)
    },
  })
})
const delta: HealthDelta = { ...first, services: [], removed: [worst?.name ?? ''] }

process.stdout.write(JSON.stringify({
  headline: summary.headline,
  worst: worst?.name,
  etag,
  notModified: again.notModified,
  streamed: first.services.length,
  afterDelta: applyDelta(first, delta).services.map((s) => s.name),
}))
`

/** Misuse must not compile: the installed types are real, not any. */
const MISUSE = `
import { summarize, type HealthDocument } from '@health-bridge/client'
export const a: HealthDocument['status'] = 'fine'
export const b = summarize({ status: 'healthy' })
export const c: number = summarize({} as HealthDocument).headline
`

// The app has no @types/node: a browser bundle's view (process is declared by hand).
const PROCESS_SHIM = `declare const process: { argv: string[]; stdout: { write(s: string): void } }\n`

function compilerOptions(outDir: string): ts.CompilerOptions {
  return {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    outDir,
  }
}

function diagnosticsOf(program: ts.Program): string[] {
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1 : 0
    return `${d.file?.fileName.split('/').at(-1) ?? ''}:${line} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

let bridge: RunningBridge
let app: string
/** The app's own diagnostics, from compiling it once (to out/) in beforeAll. */
let appDiagnostics: string[]
let packed: { files: { path: string }[]; filename: string; size: number; unpackedSize: number }

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
  const beat = (body: object) =>
    fetch(`${bridge.url}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  await beat({ service: 'database', error: 'disk full' })
  await beat({ service: 'webui' })

  app = mkdtempSync(join(tmpdir(), 'hb-client-app-'))
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', app], {
    cwd: PACKAGE_DIR,
  })
  ;[packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [typeof packed]
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'empty-webui', private: true, type: 'module' })
  )
  // --offline: the tarball must need nothing from a registry.
  await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', join(app, packed.filename)],
    { cwd: app }
  )
  writeFileSync(join(app, 'app.ts'), PROCESS_SHIM + APP)
  const program = ts.createProgram([join(app, 'app.ts')], compilerOptions(join(app, 'out')))
  appDiagnostics = diagnosticsOf(program)
  program.emit()
}, 120_000)

afterAll(async () => {
  await bridge.stop()
  rmSync(app, { recursive: true, force: true })
})

describe('@health-bridge/client, packed and installed into an empty app', () => {
  it('packs built ESM with declarations, and nothing else', () => {
    const files = packed.files.map((f) => f.path).sort()
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'package.json',
        'dist/client/index.js',
        'dist/client/index.d.ts',
        'dist/client/subscribe.js',
        'dist/model/status.js',
      ])
    )
    expect(files.filter((f) => !/^dist\/.*\.(js|d\.ts)$/.test(f))).toEqual([
      'README.md',
      'package.json',
    ])
    expect(files.some((f) => f.includes('.test.'))).toBe(false)
    process.stderr.write(
      `[client package] ${packed.filename}: ${files.length} files, ${packed.size} B packed, ${packed.unpackedSize} B unpacked\n`
    )
  })

  it('installs alone: no dependency, not one server package', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>
    }
    expect(Object.keys(lock.packages).sort()).toEqual(['', 'node_modules/@health-bridge/client'])
    expect(readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.'))).toEqual([
      '@health-bridge',
    ])
    const manifest = JSON.parse(
      readFileSync(join(app, 'node_modules/@health-bridge/client/package.json'), 'utf8')
    ) as Record<string, unknown>
    expect(manifest['dependencies']).toBeUndefined()
    expect(manifest['type']).toBe('module')
  })

  it('type-checks an app against the installed declarations, and they reject misuse', () => {
    expect(appDiagnostics).toEqual([])
    writeFileSync(join(app, 'misuse.ts'), MISUSE)
    const options = compilerOptions(join(app, 'out-misuse'))
    const bad = diagnosticsOf(ts.createProgram([join(app, 'misuse.ts')], options))
    expect(bad.map((d) => d.split(' ')[0])).toEqual(['misuse.ts:3', 'misuse.ts:4', 'misuse.ts:5'])
  })

  it('runs: polls with ETag reuse, follows the stream, summarizes, applies a delta', async () => {
    // Compiled in beforeAll into out/; node resolves the package from the app's node_modules.
    const { stdout } = await run(process.execPath, [join(app, 'out/app.js'), bridge.url], {
      cwd: app,
      timeout: 20_000,
    })
    expect(JSON.parse(stdout)).toEqual({
      headline: 'database is unhealthy (1 of 2 healthy)',
      worst: 'database',
      etag: expect.stringMatching(/^W\//) as unknown,
      notModified: true,
      streamed: 2,
      afterDelta: ['webui'],
    })
  })
})
