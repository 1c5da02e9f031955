/** A job's lifecycle as the WebUI names it, and its last exit code. */
export const JOB_STATES = ['pending', 'running', 'succeeded', 'failed', 'unknown'] as const
export type JobState = (typeof JOB_STATES)[number]

export interface JobJudgement {
  state: JobState
  exitCode: number | null
}
