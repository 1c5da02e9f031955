import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'

import { HttpError } from './errors.js'
import { parseQuery } from './query.js'

const schema = z.strictObject({ service: z.string().min(1).optional() })
const app = new Hono()
app.get('/q', (c) => c.json(parseQuery(c, schema)))
app.onError((err, c) => c.json({ error: err.message }, err instanceof HttpError ? err.status : 500))

describe('parseQuery', () => {
  it('answers a repeated query string the same way, valid or not', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await (await app.request('/q?service=web')).json()).toEqual({ service: 'web' })
      expect((await app.request('/q?servce=web')).status).toBe(400)
      expect((await app.request('/q?service=a&service=b')).status).toBe(400)
      expect(await (await app.request('/q')).json()).toEqual({})
    }
  })

  it('stays right past the cache size', async () => {
    for (let i = 0; i < 600; i++) {
      const res = await app.request(`/q?service=s${i}`)
      expect(await res.json()).toEqual({ service: `s${i}` })
    }
    expect(await (await app.request('/q?service=s0')).json()).toEqual({ service: 's0' })
  })
})
