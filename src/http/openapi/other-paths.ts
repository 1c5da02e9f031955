/** The operations that are not about health: metrics, this description, the status page. */
import {
  err,
  etagHeader,
  ifNoneMatch,
  json,
  noSecurity,
  readSecurity,
  type PathItem,
} from './parts.js'

const unchanged = { description: 'Unchanged (no body).', headers: etagHeader }

function asset(operationId: string, summary: string, type: string, what: string) {
  return {
    get: {
      operationId,
      tags: ['status page'],
      summary,
      security: readSecurity,
      parameters: [ifNoneMatch],
      responses: {
        '200': {
          description: what,
          headers: etagHeader,
          content: { [type]: { schema: { type: 'string' } } },
        },
        '304': unchanged,
        '401': err('Unauthorized'),
      },
    },
  }
}

export function otherPaths(): Record<string, PathItem> {
  return {
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['probes'],
        summary: 'Prometheus metrics (text exposition format)',
        security: readSecurity,
        responses: {
          '200': {
            description: 'Metrics.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '401': err('Unauthorized'),
          '500': err('InternalError'),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        tags: ['meta'],
        summary: 'This description (never needs a token)',
        security: noSecurity,
        parameters: [ifNoneMatch],
        responses: {
          '200': {
            description: 'OpenAPI 3.1.',
            headers: etagHeader,
            content: json({ type: 'object' }),
          },
          '304': unchanged,
          '400': err('BadRequest'),
        },
      },
    },
    '/': {
      get: {
        operationId: 'getStatusPage',
        tags: ['status page'],
        summary: 'The status page (HTML; live when JavaScript runs)',
        security: readSecurity,
        responses: {
          '200': {
            description: 'The page.',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '400': err('BadRequest'),
          '401': err('Unauthorized'),
          '500': err('InternalError'),
        },
      },
    },
    '/page/fragment': {
      get: {
        operationId: 'getStatusPageFragment',
        tags: ['status page'],
        summary: "The status page's live part, which its script swaps in on every change",
        security: readSecurity,
        parameters: [ifNoneMatch],
        responses: {
          '200': {
            description: 'An HTML fragment.',
            headers: etagHeader,
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '304': unchanged,
          '400': err('BadRequest'),
          '401': err('Unauthorized'),
          '500': err('InternalError'),
        },
      },
    },
    '/assets/page.js': asset(
      'getStatusPageScript',
      "The status page's script",
      'text/javascript',
      'JavaScript, bundled at build time from src/page/browser/.'
    ),
    '/assets/page.css': asset(
      'getStatusPageStyle',
      "The status page's stylesheet",
      'text/css',
      'CSS.'
    ),
  }
}
