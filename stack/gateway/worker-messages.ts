/** The messages between the gateway and a function's worker. */

/** A request, as the gateway posts it to a worker. */
export interface WorkerRequest {
  id: number
  method: string
  url: string
  headers: [string, string][]
  body: ArrayBuffer | null
}

/** A worker's answer to one request. */
export type WorkerReply =
  | {
      id: number
      status: number
      headers: [string, string][]
      body: ArrayBuffer | null
      failed?: undefined
    }
  | { id: number; failed: true }
