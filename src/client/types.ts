/**
 * The wire types, named. They come from the bridge's zod schemas by way of its OpenAPI document
 * (`api-types.gen.ts`, made by openapi-typescript), so they are plain TypeScript: nothing to
 * install for them, in a browser bundle or in the published package. A unit test checks that
 * each is exactly the zod schema's type.
 */
import type { components, paths } from './api-types.gen.js'

type Schemas = components['schemas']

export type { Status } from '../model/status.js'
export type HealthDocument = Schemas['HealthDocument']
export type HealthDelta = Schemas['HealthDelta']
export type ServiceView = Schemas['Service']
export type InstanceView = Schemas['Instance']
export type DockerPart = Schemas['DockerPart']
export type HeartbeatPart = Schemas['HeartbeatPart']
export type JobView = Schemas['Job']
export type BridgeView = Schemas['Bridge']
export type DockerSourceView = Schemas['DockerSource']
export type PeerSourceView = Schemas['PeerSource']
export type Readiness = Schemas['Readiness']
export type Transition = Schemas['Transition']
export type ErrorBody = Schemas['Error']
export type ErrorCode = ErrorBody['error']
export type HeartbeatAccepted = Schemas['HeartbeatAccepted']
export type HeartbeatRequest = Schemas['HeartbeatRequest']

/**
 * The whole API, as `openapi-typescript` would generate it from GET /openapi.json: for
 * `createClient<HealthBridgePaths>()` from openapi-fetch without a generation step.
 */
export type HealthBridgePaths = paths
export type HealthBridgeComponents = components
