/** Time as the model sees it: injected, so tests can say exactly when "now" is. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
