/**
 * Input limits of the heartbeat format: explicit and documented (docs/security.md). These are
 * the defaults; the environment may change each within bounds (src/config/config.ts).
 */
export interface Limits {
  bodyBytes: number
  errorChars: number
  detailsBytes: number
  detailsDepth: number
}

export const LIMITS: Limits = {
  bodyBytes: 16 * 1024,
  errorChars: 1024,
  detailsBytes: 4 * 1024,
  detailsDepth: 8,
}
