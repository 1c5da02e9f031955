import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { following } from '../../test/helpers/builders.js'
import { testApp } from '../../test/helpers/app.js'

import { createMetrics } from './metrics.js'

function setup(env: Record<string, string> = {}) {
  let now = Date.parse('2026-11-21T10:00:00Z')
  const clock = { now: () => now }
  let metrics: ReturnType<typeof createMetrics> | undefined
  const { app, store, post } = testApp(env, {
    clock,
    deps: (store) => ({ metrics: (metrics = createMetrics({ store, clock })) }),
  })
  if (!metrics) throw new Error('the app was made without its metrics')
  /** The samples of one scrape, as `name{labels} -> value`. */
  const scrape = async (): Promise<Map<string, number>> => {
    const res = await app.request('/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return parseExposition(await res.text())
  }
  return { app, store, metrics, post, scrape, advance: (ms: number) => (now += ms) }
}

/** A strict reading of the Prometheus text format: every line a comment or a well-formed sample. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (!m?.[1] || m[2] === undefined) throw new Error(`malformed exposition line: ${line}`)
    samples.set(m[1], Number(m[2]))
  }
  return samples
}

const series = (samples: Map<string, number>, prefix: string) =>
  [...samples.keys()].filter((k) => k.startsWith(prefix))

describe('GET /metrics', () => {
  it('shows statuses per service and instance as one 0/1 series per status', async () => {
    const { post, scrape } = setup()
    await post('{"service":"api","instance":"i1"}')
    await post('{"service":"api","instance":"i2","error":"db down"}')
    const m = await scrape()
    expect(m.get('health_bridge_status{status="degraded"}')).toBe(1)
    expect(m.get('health_bridge_status{status="healthy"}')).toBe(0)
    expect(m.get('health_bridge_service_status{service="api",status="degraded"}')).toBe(1)
    expect(m.get('health_bridge_service_status{service="api",status="unhealthy"}')).toBe(0)
    expect(
      m.get('health_bridge_instance_status{service="api",instance="i2",status="unhealthy"}')
    ).toBe(1)
    expect(
      m.get('health_bridge_instance_status{service="api",instance="i1",status="healthy"}')
    ).toBe(1)
    expect(series(m, 'health_bridge_instance_status{')).toHaveLength(10)
    expect(m.get('health_bridge_heartbeat_instances')).toBe(2)
    expect(
      m.get('health_bridge_heartbeat_last_seen_timestamp_seconds{service="api",instance="i1"}')
    ).toBe(Date.parse('2026-11-21T10:00:00Z') / 1000)
  })

  it('drops the series of a service that is gone, instead of freezing them', async () => {
    const { app, post, scrape } = setup()
    await post('{"service":"api"}')
    expect(series(await scrape(), 'health_bridge_service_status{service="api"')).toHaveLength(5)
    await app.request('/health?service=api', { method: 'DELETE' })
    const m = await scrape()
    expect(series(m, 'health_bridge_service_status{')).toHaveLength(0)
    expect(series(m, 'health_bridge_instance_status{')).toHaveLength(0)
  })

  it('follows a deadline-driven flip without any request in between', async () => {
    const { post, scrape, advance } = setup({ HEARTBEAT_TIMEOUT: '30s' })
    await post('{"service":"api"}')
    expect(
      (await scrape()).get('health_bridge_service_status{service="api",status="healthy"}')
    ).toBe(1)
    advance(30_001)
    expect(
      (await scrape()).get('health_bridge_service_status{service="api",status="unhealthy"}')
    ).toBe(1)
  })

  it('counts heartbeats accepted, and rejected by a closed set of reasons', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-metrics-'))
    writeFileSync(join(dir, 't.yaml'), 'a: token-of-service-a-00001\n')
    const { post, scrape } = setup({
      HEARTBEAT_TOKEN: 'shared-token-0000000001',
      HEARTBEAT_TOKENS_FILE: join(dir, 't.yaml'),
      MAX_INSTANCES: '1',
      MAX_BODY_BYTES: '1024',
    })
    const ok = { authorization: 'Bearer shared-token-0000000001' }
    const before = await scrape()
    for (const reason of [
      'invalid_json',
      'invalid_schema',
      'too_large',
      'unsupported_media_type',
      'unauthorized',
      'forbidden',
      'too_many_instances',
    ]) {
      expect(before.get(`health_bridge_heartbeats_rejected_total{reason="${reason}"}`)).toBe(0)
    }
    expect((await post('{"service":"b"}', ok)).status).toBe(202)
    expect((await post('{"service":', ok)).status).toBe(400)
    expect((await post('{"service":"b","eror":"typo"}', ok)).status).toBe(400)
    expect((await post('{"service":"b","error":"x"}', ok)).status).toBe(202)
    expect((await post(`{"service":"b","details":{"p":"${'x'.repeat(2000)}"}}`, ok)).status).toBe(
      413
    )
    expect((await post('{"service":"b"}', { ...ok, 'content-type': 'text/plain' })).status).toBe(
      415
    )
    expect(
      (await post('{"service":"b"}', { authorization: 'Bearer wrong-token-00000000' })).status
    ).toBe(401)
    expect((await post('{"service":"a"}', ok)).status).toBe(403)
    expect((await post('{"service":"c"}', ok)).status).toBe(429)

    const m = await scrape()
    expect(m.get('health_bridge_heartbeats_accepted_total')).toBe(2)
    for (const reason of [
      'invalid_json',
      'invalid_schema',
      'too_large',
      'unsupported_media_type',
      'unauthorized',
      'forbidden',
      'too_many_instances',
    ]) {
      expect(m.get(`health_bridge_heartbeats_rejected_total{reason="${reason}"}`), reason).toBe(1)
    }
    expect(series(m, 'health_bridge_heartbeats_rejected_total{')).toHaveLength(8)
  })

  it('keeps one registry per app: two bridges in one process never share counters', async () => {
    const one = setup()
    const two = setup()
    await one.post('{"service":"api"}')
    expect((await one.scrape()).get('health_bridge_heartbeats_accepted_total')).toBe(1)
    expect((await two.scrape()).get('health_bridge_heartbeats_accepted_total')).toBe(0)
    expect(series(await two.scrape(), 'health_bridge_service_status{')).toHaveLength(0)
  })

  it('labels request durations by route pattern, method and status class, never by raw input', async () => {
    const { app, post, scrape } = setup()
    await post('{"service":"api"}')
    for (let i = 0; i < 50; i++) {
      await app.request(`/random-${i}/${'x'.repeat(i)}?q=${i}`)
      await app.request(`/health?service=s${i}`)
    }
    await app.request('/health', { method: 'PATCH' })
    await app.request('/health', { method: 'PROPFIND' })
    const m = await scrape()
    const counts = series(m, 'health_bridge_http_request_duration_seconds_count{')
    for (const key of counts) {
      expect(key).toMatch(
        /^[^{]+\{method="(GET|HEAD|POST|DELETE|OPTIONS|other)",route="(\/[a-z/]*|unmatched)",status_class="[1-5]xx"\}$/
      )
    }
    expect(
      m.get(
        'health_bridge_http_request_duration_seconds_count{method="GET",route="unmatched",status_class="4xx"}'
      )
    ).toBe(50)
    expect(
      m.get(
        'health_bridge_http_request_duration_seconds_count{method="GET",route="/health",status_class="4xx"}'
      )
    ).toBe(50)
    expect(
      m.get(
        'health_bridge_http_request_duration_seconds_count{method="POST",route="/health",status_class="2xx"}'
      )
    ).toBe(1)
    expect(
      m.get(
        'health_bridge_http_request_duration_seconds_count{method="other",route="/health",status_class="4xx"}'
      )
    ).toBe(2)
    expect(counts.length).toBeLessThanOrEqual(6)
  })

  it('counts Docker events by action, stream reconnects and stalls', async () => {
    const { metrics, scrape } = setup()
    // Actions come from the parser's closed list (`health_status: healthy` is `health_status`,
    // see events.test.ts), so the label set cannot grow.
    metrics.docker.eventReceived('die')
    metrics.docker.eventReceived('health_status')
    metrics.docker.eventReceived('health_status')
    metrics.docker.streamReconnected()
    const before = await scrape()
    expect(before.get('health_bridge_docker_stream_stalls_total')).toBe(0)
    metrics.docker.streamStalled()
    const m = await scrape()
    expect(m.get('health_bridge_docker_events_total{action="die"}')).toBe(1)
    expect(m.get('health_bridge_docker_events_total{action="health_status"}')).toBe(2)
    expect(series(m, 'health_bridge_docker_events_total{')).toHaveLength(2)
    expect(m.get('health_bridge_docker_stream_reconnects_total')).toBe(1)
    expect(m.get('health_bridge_docker_stream_stalls_total')).toBe(1)
  })

  it('shows the Docker source state and the time since its last event', async () => {
    const { store, scrape, advance } = setup()
    let m = await scrape()
    expect(m.get('health_bridge_docker_state{state="disabled"}')).toBe(1)
    expect(series(m, 'health_bridge_docker_seconds_since_last_event')).toHaveLength(0)
    const at = Date.parse('2026-11-21T10:00:00Z')
    store.setDockerStatus(following({ project: 'clp', lastEventAt: at - 5000 }))
    advance(2500)
    m = await scrape()
    expect(m.get('health_bridge_docker_state{state="following"}')).toBe(1)
    expect(m.get('health_bridge_docker_state{state="disabled"}')).toBe(0)
    expect(m.get('health_bridge_docker_seconds_since_last_event{project="clp"}')).toBe(7.5)
  })

  it("includes Node's default process metrics", async () => {
    const m = await setup().scrape()
    expect(m.has('process_cpu_user_seconds_total')).toBe(true)
    expect(m.has('process_resident_memory_bytes')).toBe(true)
    expect([...m.keys()].some((k) => k.startsWith('nodejs_heap_size_used_bytes'))).toBe(true)
  })
})
