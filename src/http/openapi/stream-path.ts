/**
 * `GET /health/stream` in OpenAPI terms. OpenAPI 3.1 cannot type the events of a
 * `text/event-stream` (3.2's `itemSchema` will), so the answer is a string described in prose;
 * the `data` schema of each event type is named in its `$defs`, by event name, and is a
 * component, so openapi-typescript makes types of them (`HealthDocument`, `HealthDelta`).
 */
import { streamQuerySchema } from '../routes/stream.js'

import { err, parameters, readSecurity, ref, type PathItem } from './parts.js'

const FULL =
  '`1`: send every change as `event: health` with the whole document, instead of `event: delta`.'

const DESCRIPTION = [
  'Server-Sent Events; every event carries JSON as `data` and the document ETag it leads to as `id` (the same value `GET /health` sends as `ETag`).',
  '- `event: health`: a whole `HealthDocument`. Always the first event of a connection, unless it resumes (`Last-Event-ID`) from an id the bridge can continue from; with `full=1`, every change too.',
  '- `event: delta`: a `HealthDelta`, one per change (by default): the document header (`status`, `checkedAt`, `bridge`), the whole objects of the services that changed, and the names of those `removed`. Applied in order to the last `health` document (`applyDelta` in `@health-bridge/client`) it gives exactly what `GET /health` serves. A `delta` before any `health` on a connection is a protocol error: reconnect without `Last-Event-ID`.',
  'Changes a display would not draw (heartbeat bookkeeping) send nothing. Comments keep the connection alive at least every 5 s; `retry:` says when to reconnect. At most MAX_STREAMS streams are open at once.',
].join('\n')

/** What the stream route accepts, from its schema. */
function streamParameters() {
  return parameters('query', streamQuerySchema, { full: FULL })
}

const EXAMPLE = [
  'retry: 3000',
  '',
  'id: W/"3mV0pYwS1Bq6vF0nS9h2k1eQ1xA"',
  'event: health',
  'data: {"status":"healthy","checkedAt":"2026-11-21T10:00:00.000Z","bridge":{...},"services":[...]}',
  '',
  ': keep-alive',
  '',
  'id: W/"Yq1mZbC8c0Xq3dF5lM2o9rKx7aE"',
  'event: delta',
  'data: {"status":"unhealthy","checkedAt":"2026-11-21T10:00:07.000Z","bridge":{...},"services":[{"name":"database",...}],"removed":[]}',
  '',
  '',
].join('\n')

export function streamPath(): Record<string, PathItem> {
  return {
    '/health/stream': {
      get: {
        operationId: 'streamHealth',
        tags: ['health'],
        summary: 'Server-Sent Events: the document now, then every change',
        description: DESCRIPTION,
        security: readSecurity,
        parameters: [
          ...streamParameters(),
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description: 'The `id` of the last event received, to resume from.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'An endless `text/event-stream`.',
            content: {
              'text/event-stream': {
                schema: {
                  type: 'string',
                  description:
                    'Events `health` (data: a HealthDocument) and `delta` (data: a HealthDelta).',
                  // The data of each event type, by its `event:` name.
                  $defs: { health: ref('HealthDocument'), delta: ref('HealthDelta') },
                },
                example: EXAMPLE,
              },
            },
          },
          '400': err('BadRequest'),
          '401': err('Unauthorized'),
          '429': err('TooManyStreams'),
          '500': err('InternalError'),
        },
      },
    },
  }
}
