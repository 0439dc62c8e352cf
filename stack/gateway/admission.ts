/**
 * Admission control for one function: a bounded number of requests at work, a bounded queue
 * behind them, and a deadline for each. Under overload the gateway sheds requests with 503
 * (and Retry-After) instead of piling them up, so latency and memory stay bounded; a request
 * that outlives its deadline is answered 504.
 */
import { errorResponse } from '../../supabase/functions/_shared/http.ts'

/** The limits of one function. */
export interface AdmissionLimits {
  /** Requests at work at once. */
  maxConcurrent: number
  /** Requests that may wait for a turn; more are answered 503 at once. */
  maxQueued: number
  /** Deadline of one request, queueing included, in milliseconds. */
  timeoutMs: number
}

/** Counts of what admission has done, for the soak test's report and the status route. */
export interface AdmissionStats {
  active: number
  queued: number
  shed: number
  timedOut: number
}

/** One function's admission: wraps its handler. */
export class Admission {
  readonly #limits: AdmissionLimits
  readonly #name: string
  readonly #waiting: (() => void)[] = []
  #active = 0
  #shed = 0
  #timedOut = 0

  constructor(name: string, limits: AdmissionLimits) {
    this.#name = name
    this.#limits = limits
  }

  /** What admission is doing now, and has done. */
  get stats(): AdmissionStats {
    return {
      active: this.#active,
      queued: this.#waiting.length,
      shed: this.#shed,
      timedOut: this.#timedOut,
    }
  }

  /** Runs `work` when there is room and within the deadline. */
  async run(work: () => Promise<Response>): Promise<Response> {
    const deadline = Date.now() + this.#limits.timeoutMs
    if (this.#active >= this.#limits.maxConcurrent) {
      if (this.#waiting.length >= this.#limits.maxQueued || !(await this.#waitForTurn(deadline))) {
        this.#shed++
        return errorResponse(
          503,
          'overloaded',
          `function ${this.#name} is overloaded: try again shortly`,
          {
            'retry-after': '1',
          },
        )
      }
    }
    this.#active++
    // The slot is given back when the work ends, not at its deadline: a request answered 504
    // may still hold a database connection, and the next one must not add to it. Work that
    // never ends gives it back one more timeout after its deadline, or the slot would be lost.
    let abandon: ReturnType<typeof setTimeout> | undefined
    let released = false
    const release = () => {
      if (released) return
      released = true
      clearTimeout(abandon)
      this.#active--
      this.#waiting.shift()?.()
    }
    const working = work().finally(release)
    // Its rejection, if it comes after the deadline, has no one to go to.
    working.catch(() => {})
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<Response>((resolve) => {
      timer = setTimeout(
        () => {
          this.#timedOut++
          abandon = setTimeout(release, this.#limits.timeoutMs)
          resolve(
            errorResponse(
              504,
              'timeout',
              `function ${this.#name} did not answer within ${this.#limits.timeoutMs} ms`,
            ),
          )
        },
        Math.max(0, deadline - Date.now()),
      )
    })
    try {
      return await Promise.race([working, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  #waitForTurn(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const turn = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(
        () => {
          const index = this.#waiting.indexOf(turn)
          if (index >= 0) this.#waiting.splice(index, 1)
          resolve(false)
        },
        Math.max(0, deadline - Date.now()),
      )
      this.#waiting.push(turn)
    })
  }
}
