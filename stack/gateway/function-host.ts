/**
 * One function, hosted in a worker of its own (MATCHBOX_FUNCTION_ISOLATION=worker): the
 * gateway's side of it. When the worker dies, its requests in flight are answered 502 and a
 * new worker starts, while the gateway and the other functions go on, as on Supabase's edge
 * runtime. (Admission and deadlines are the gateway's, in admission.ts, in either mode.)
 */
import { HttpError } from '../../supabase/functions/_shared/errors.ts'
import { errorResponse, readBody } from '../../supabase/functions/_shared/http.ts'
import type { WorkerReply, WorkerRequest } from './worker-messages.ts'

/** How one function is hosted. */
export interface FunctionHostOptions {
  name: string
  /** Absolute path of the module that default-exports `{ fetch }`. */
  entrypoint: string
  /** Largest body passed on; a larger one is answered 413 here, as on Supabase. */
  maxBodyBytes: number
  log: (line: string) => void
}

interface Pending {
  resolve: (response: Response) => void
}

const WORKER_URL = new URL('./function-worker.ts', import.meta.url)

/** A function in its own worker, restarted when it dies. */
export class FunctionHost {
  readonly #options: FunctionHostOptions
  #worker: Worker | undefined
  #ready: Promise<void> = Promise.resolve()
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #restarts = 0
  #stopped = false

  constructor(options: FunctionHostOptions) {
    this.#options = options
  }

  /** How many times the worker has been replaced after dying. */
  get restarts(): number {
    return this.#restarts
  }

  /** Starts the worker; resolves once the function's module has loaded. */
  start(): Promise<void> {
    const worker = new Worker(WORKER_URL, { type: 'module', name: this.#options.name })
    this.#worker = worker
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerReply | { ready: true }>) => {
        if ('ready' in event.data) resolve()
        else this.#settle(event.data)
      }
      worker.onerror = (event: ErrorEvent) => {
        // Handled here, the error stays in this worker instead of ending the gateway.
        event.preventDefault()
        this.#options.log(`function ${this.#options.name} crashed: ${event.message}`)
        reject(new Error(event.message))
        this.#replace(worker)
      }
    })
    worker.postMessage({ entrypoint: this.#options.entrypoint })
    return this.#ready
  }

  /** Answers a request through the worker. */
  async fetch(request: Request): Promise<Response> {
    let body: ArrayBuffer | null
    try {
      body = request.body ? await readBody(request, this.#options.maxBodyBytes) : null
      await this.#ready
    } catch (error) {
      if (error instanceof HttpError) return errorResponse(error.status, error.code, error.message)
      return errorResponse(
        503,
        'function_unavailable',
        `function ${this.#options.name} is starting: try again shortly`,
      )
    }
    const id = this.#nextId++
    const message: WorkerRequest = {
      id,
      method: request.method,
      url: request.url,
      headers: [...request.headers],
      body,
    }
    return await new Promise<Response>((resolve) => {
      this.#pending.set(id, { resolve })
      this.#worker!.postMessage(message, body ? [body] : [])
    })
  }

  /** Ends the worker as a crash would (fault injection for tests); a new one starts. */
  crash(): void {
    if (this.#worker) this.#replace(this.#worker)
  }

  /** Ends the worker for good. */
  stop(): void {
    this.#stopped = true
    this.#worker?.terminate()
    this.#failPending()
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending.get(reply.id)
    if (!pending) return
    this.#pending.delete(reply.id)
    if (reply.failed) {
      pending.resolve(errorResponse(500, 'internal_error', 'internal server error'))
      return
    }
    pending.resolve(new Response(reply.body, { status: reply.status, headers: reply.headers }))
  }

  #replace(worker: Worker): void {
    if (worker !== this.#worker) return
    worker.terminate()
    this.#worker = undefined
    this.#failPending()
    if (this.#stopped) return
    this.#restarts++
    this.start().catch((error: unknown) =>
      this.#options.log(`function ${this.#options.name} failed to restart: ${error}`),
    )
  }

  #failPending(): void {
    for (const pending of this.#pending.values()) {
      pending.resolve(
        errorResponse(
          502,
          'function_crashed',
          `function ${this.#options.name} stopped before it answered`,
        ),
      )
    }
    this.#pending.clear()
  }
}
