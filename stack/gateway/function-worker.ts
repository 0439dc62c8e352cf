/**
 * Inside one function's worker: loads the function's module and answers the requests the
 * gateway posts, one message each way. A worker is an isolate of its own, as a function is
 * on Supabase's edge runtime: if it crashes or is stopped, the gateway and the other
 * functions go on.
 */
/// <reference lib="deno.worker" />
import type { WorkerReply, WorkerRequest } from './worker-messages.ts'

interface FunctionModule {
  default?: { fetch?: (request: Request) => Response | Promise<Response> }
}

let handler: ((request: Request) => Response | Promise<Response>) | undefined

self.onmessage = async (event: MessageEvent<WorkerRequest | { entrypoint: string }>) => {
  const message = event.data
  if ('entrypoint' in message) {
    const module = (await import(new URL(`file://${message.entrypoint}`).href)) as FunctionModule
    handler = module.default?.fetch
    if (typeof handler !== 'function')
      throw new Error(`${message.entrypoint} must default-export { fetch }`)
    self.postMessage({ ready: true })
    return
  }
  self.postMessage(await answer(message))
}

async function answer(message: WorkerRequest): Promise<WorkerReply> {
  try {
    const request = new Request(message.url, {
      method: message.method,
      headers: message.headers,
      body: message.body,
    })
    const response = await handler!(request)
    return {
      id: message.id,
      status: response.status,
      headers: [...response.headers],
      body: response.body ? await response.arrayBuffer() : null,
    }
  } catch (error) {
    // The function's own pipeline answers its errors; reaching here means it threw past it.
    console.error('function threw:', error)
    return { id: message.id, failed: true }
  }
}
