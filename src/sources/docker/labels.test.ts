import { describe, expect, it } from 'vitest'

import { parseDependsOn, parseServiceLabels } from './labels.js'

describe('parseServiceLabels', () => {
  it('reads every health-bridge label of the contract', () => {
    expect(
      parseServiceLabels({
        'health-bridge.role': 'job',
        'health-bridge.critical': 'false',
        'health-bridge.job-timeout': '10m',
        'health-bridge.heartbeat': 'true',
        'health-bridge.heartbeat-timeout': '45s',
        'health-bridge.ignore': 'true',
        'com.docker.compose.service': 'x',
        'org.example.secret': 'ignored',
      })
    ).toEqual({
      labels: {
        role: 'job',
        critical: false,
        jobTimeoutMs: 600_000,
        heartbeat: true,
        heartbeatTimeoutMs: 45_000,
        ignore: true,
      },
      problems: [],
    })
  })

  it('is lenient about case and surrounding space', () => {
    expect(
      parseServiceLabels({ 'health-bridge.role': ' Service ', 'health-bridge.critical': 'TRUE' })
        .labels
    ).toEqual({
      role: 'service',
      critical: true,
    })
  })

  it.each([
    { label: 'health-bridge.role', value: 'worker', problem: /expected job or service/ },
    { label: 'health-bridge.critical', value: 'yes', problem: /expected true or false/ },
    { label: 'health-bridge.job-timeout', value: 'soon', problem: /expected a duration/ },
    { label: 'health-bridge.heartbeat-timeout', value: '0s', problem: /expected a duration/ },
    { label: 'health-bridge.critcal', value: 'false', problem: /unknown label/ },
  ])('ignores $label=$value and says why', ({ label, value, problem }) => {
    const parsed = parseServiceLabels({ [label]: value, 'health-bridge.ignore': 'false' })
    expect(parsed.labels).toEqual({ ignore: false })
    expect(parsed.problems).toHaveLength(1)
    expect(parsed.problems[0]).toMatch(problem)
  })

  it('shortens a long bad value in the problem it reports', () => {
    const parsed = parseServiceLabels({ 'health-bridge.role': 'x'.repeat(500) })
    expect(parsed.problems[0]?.length).toBeLessThan(150)
  })

  it('does not take prototype keys for labels', () => {
    expect(parseServiceLabels({ 'health-bridge.constructor': 'x' }).problems[0]).toMatch(
      /unknown label/
    )
  })
})

describe('parseDependsOn', () => {
  it.each([
    { raw: undefined, out: [] },
    { raw: '', out: [] },
    {
      raw: 'db:service_healthy:true,init:service_completed_successfully:false',
      out: [
        { service: 'db', condition: 'service_healthy' },
        // The third field is compose's `restart` flag; `required` is not in the label.
        { service: 'init', condition: 'service_completed_successfully' },
      ],
    },
    // Older compose versions write only `name:condition`.
    {
      raw: 'db:service_started',
      out: [{ service: 'db', condition: 'service_started' }],
    },
    { raw: 'db', out: [{ service: 'db', condition: 'service_started' }] },
    {
      raw: 'db:service_healthy, db:service_started,,',
      out: [{ service: 'db', condition: 'service_healthy' }],
    },
  ])('parses $raw', ({ raw, out }) => {
    expect(parseDependsOn(raw)).toEqual(out)
  })
})
