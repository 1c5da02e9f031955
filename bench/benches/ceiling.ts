/** Starts the bare-Hono ceiling server with the bytes the bridge served. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { BENCH_OUT, SERVERS_DIR } from '../lib/paths.js'
import { freePort, spawnServer, type ChildServer } from '../lib/proc.js'

export interface CeilingBytes {
  doc: string
  etag: string
  status: number
  service: string
  serviceEtag?: string
}

export async function startCeiling(name: string, bytes: CeilingBytes): Promise<ChildServer> {
  const docFile = join(BENCH_OUT, `${name}-doc.json`)
  const serviceFile = join(BENCH_OUT, `${name}-service.json`)
  writeFileSync(docFile, bytes.doc)
  writeFileSync(serviceFile, bytes.service)
  const port = await freePort()
  return spawnServer({
    name,
    nodeArgs: ['--import', 'tsx', join(SERVERS_DIR, 'ceiling.ts')],
    env: {
      PORT: String(port),
      DOC_FILE: docFile,
      DOC_ETAG: bytes.etag,
      DOC_STATUS: String(bytes.status),
      SERVICE_FILE: serviceFile,
      ...(bytes.serviceEtag === undefined ? {} : { SERVICE_ETAG: bytes.serviceEtag }),
    },
    port,
    readyPath: '/health/live',
    readyStatus: 200,
  })
}
