/**
 * Vitest global setup: bundle the status page's script once per run (`npm run build:page`,
 * about a second), so every test that serves the page serves the current source.
 */
import { execFileSync } from 'node:child_process'

export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build:page'], { stdio: 'inherit' })
}
