/**
 * `health-bridge/client`: everything a UI or a service needs to talk to the bridge, in browsers
 * and Node 20+, with no dependency beyond `fetch`.
 *
 * - `fetchHealth()` polls `GET /health`, revalidating with the previous answer's ETag;
 * - `subscribeHealth()` follows `GET /health/stream`, reconnecting with backoff;
 * - `applyDelta()` applies one `event: delta` of the stream to the document, and
 *   `HealthFollower` follows the stream's events (for your own SSE parser);
 * - `summarize()` turns the document into what a status display shows;
 * - `etagCache()` gives an openapi-fetch client ETag revalidation, 304s included;
 * - `createHealthClient()` binds a connection once and remembers the last snapshot;
 * - `sendHeartbeat()` / `HeartbeatSender` report a service's own health.
 */
export * from './fetch-health.js'
export * from './subscribe.js'
export * from './delta.js'
export * from './follow.js'
export * from './summarize.js'
export * from './health-client.js'
export type * from './types.js'
export * from './heartbeat.js'
export * from './etag-cache.js'
