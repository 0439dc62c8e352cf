import { describe, expect, it } from 'vitest'
import { Admission } from '../../stack/gateway/admission.ts'

/** Work that answers when `finish` is called. */
function held(status = 200): { work: () => Promise<Response>; finish: () => void } {
  let finish = () => {}
  const done = new Promise<void>((resolve) => (finish = resolve))
  return { work: () => done.then(() => new Response(null, { status })), finish }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10))

describe('Admission', () => {
  it('runs up to maxConcurrent, queues up to maxQueued, and sheds the rest with 503', async () => {
    const admission = new Admission('f', { maxConcurrent: 1, maxQueued: 1, timeoutMs: 5000 })
    const first = held()
    const second = held(201)
    const running = admission.run(first.work)
    const queued = admission.run(second.work)
    await tick()
    expect(admission.stats).toMatchObject({ active: 1, queued: 1 })

    const shed = await admission.run(() => Promise.resolve(new Response(null)))
    expect(shed.status).toBe(503)
    expect(shed.headers.get('retry-after')).toBe('1')
    expect((await shed.json()).error).toEqual({
      code: 'overloaded',
      message: 'function f is overloaded: try again shortly',
    })

    first.finish()
    expect((await running).status).toBe(200)
    second.finish()
    expect((await queued).status).toBe(201)
    expect(admission.stats).toEqual({ active: 0, queued: 0, shed: 1, timedOut: 0 })
  })

  it('answers 504 at the deadline, and a queued request that outwaits it 503', async () => {
    const admission = new Admission('f', { maxConcurrent: 1, maxQueued: 5, timeoutMs: 50 })
    const stuck = held()
    const [late, waiting] = await Promise.all([
      admission.run(stuck.work),
      admission.run(() => Promise.resolve(new Response(null))),
    ])
    expect(late.status).toBe(504)
    expect((await late.json()).error.code).toBe('timeout')
    expect(waiting.status).toBe(503)
    stuck.finish()
  })

  it('keeps the slot of a request answered 504 until its work really ends', async () => {
    const admission = new Admission('f', { maxConcurrent: 1, maxQueued: 5, timeoutMs: 50 })
    const stuck = held()
    expect((await admission.run(stuck.work)).status).toBe(504)
    expect(admission.stats.active).toBe(1)

    const next = admission.run(() => Promise.resolve(new Response(null, { status: 200 })))
    await tick()
    expect(admission.stats.queued).toBe(1)
    stuck.finish()
    expect((await next).status).toBe(200)
    expect(admission.stats).toMatchObject({ active: 0, queued: 0, timedOut: 1 })
  })

  it('gives the slot of work that never ends back one timeout after its deadline', async () => {
    const admission = new Admission('f', { maxConcurrent: 1, maxQueued: 5, timeoutMs: 50 })
    const never = () => new Promise<Response>(() => {})
    expect((await admission.run(never)).status).toBe(504)
    expect(admission.stats.active).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(admission.stats.active).toBe(0)
  })

  it('passes a failure of the work on, and frees its slot', async () => {
    const admission = new Admission('f', { maxConcurrent: 1, maxQueued: 0, timeoutMs: 5000 })
    await expect(admission.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect((await admission.run(() => Promise.resolve(new Response(null)))).status).toBe(200)
  })
})
