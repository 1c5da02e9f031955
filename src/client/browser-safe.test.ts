/**
 * `health-bridge/client` must run in a browser bundle and in Node with no dependency beyond
 * `fetch`: nothing it loads at run time may import a Node built-in or a package. Type-only
 * imports vanish at compile time and are allowed.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = resolve(import.meta.dirname, '..')

/** The modules `file` imports at run time (not `import type`, not `export type`). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
  const out: string[] = []
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause
      const typeOnly =
        clause?.phaseModifier === ts.SyntaxKind.TypeKeyword ||
        (clause !== undefined &&
          clause.name === undefined &&
          clause.namedBindings !== undefined &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.every((e) => e.isTypeOnly))
      if (!typeOnly) out.push((node.moduleSpecifier as ts.StringLiteral).text)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      out.push((node.moduleSpecifier as ts.StringLiteral).text)
    }
  }
  return out
}

describe('health-bridge/client', () => {
  it('loads nothing at run time but its own modules: no Node built-ins, no packages', () => {
    const seen = new Set<string>()
    const offending: string[] = []
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const spec of runtimeImports(file)) {
        if (!spec.startsWith('.')) {
          offending.push(`${file.slice(SRC.length + 1)} imports ${spec}`)
          continue
        }
        visit(join(dirname(file), spec.replace(/\.js$/, '.ts')))
      }
    }
    visit(join(SRC, 'client/index.ts'))
    expect(offending).toEqual([])
    // It did walk the graph (summarize pulls in the status model).
    expect([...seen].map((f) => f.slice(SRC.length + 1))).toEqual(
      expect.arrayContaining(['client/summarize.ts', 'model/status.ts', 'client/subscribe.ts'])
    )
  })
})
