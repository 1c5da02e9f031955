/**
 * The client's wire types are generated (src/client/api-types.gen.ts) from the OpenAPI
 * document, which is generated from the zod schemas: the file must be fresh, and each named
 * type must be exactly its zod schema's type, so server and client cannot drift apart.
 */
import { readFileSync } from 'node:fs'

import { describe, expect, expectTypeOf, it } from 'vitest'
import type { z } from 'zod'

import { CLIENT_TYPES_FILE, clientTypesSource } from '../../scripts/generate-client-types.js'
import type * as client from '../../src/client/types.js'
import type * as error from '../../src/wire/error.js'
import type * as wire from '../../src/wire/health-document.js'
import type * as heartbeat from '../../src/wire/heartbeat.js'

describe("the client's generated wire types", () => {
  it('are fresh: regenerating them from the zod schemas changes nothing', async () => {
    const committed = readFileSync(CLIENT_TYPES_FILE, 'utf8')
    expect(committed === (await clientTypesSource()), 'run npm run generate:client-types').toBe(
      true
    )
  })

  it('are exactly the types of the zod schemas', () => {
    expectTypeOf<client.HealthDocument>().toEqualTypeOf<wire.HealthDocument>()
    expectTypeOf<client.HealthDelta>().toEqualTypeOf<wire.HealthDelta>()
    expectTypeOf<client.ServiceView>().toEqualTypeOf<wire.ServiceView>()
    expectTypeOf<client.InstanceView>().toEqualTypeOf<wire.InstanceView>()
    expectTypeOf<client.DockerPart>().toEqualTypeOf<wire.DockerPart>()
    expectTypeOf<client.HeartbeatPart>().toEqualTypeOf<wire.HeartbeatPart>()
    expectTypeOf<client.JobView>().toEqualTypeOf<wire.JobView>()
    expectTypeOf<client.BridgeView>().toEqualTypeOf<wire.BridgeView>()
    expectTypeOf<client.PeerSourceView>().toEqualTypeOf<wire.PeerSourceView>()
    expectTypeOf<client.Readiness>().toEqualTypeOf<wire.Readiness>()
    expectTypeOf<client.Transition>().toEqualTypeOf<wire.Transition>()
    expectTypeOf<client.ErrorBody>().toEqualTypeOf<error.ErrorBody>()
    expectTypeOf<client.HeartbeatAccepted>().toEqualTypeOf<heartbeat.HeartbeatAccepted>()
    expectTypeOf<client.HeartbeatRequest>().toEqualTypeOf<
      z.input<typeof heartbeat.heartbeatRequestSchema>
    >()
  })
})
