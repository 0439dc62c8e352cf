/** Memory of a process, from Linux's /proc: its peak and current resident set size. */
import { readFileSync } from 'node:fs'

/** Peak (VmHWM) and current (VmRSS) resident memory in MiB; undefined where /proc is not. */
export function processMemory(
  pid: number | undefined,
): { peakMb: number; rssMb: number } | undefined {
  if (pid === undefined) return undefined
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
    const peak = kb('VmHWM')
    const rss = kb('VmRSS')
    if (!Number.isFinite(peak) || !Number.isFinite(rss)) return undefined
    return { peakMb: peak / 1024, rssMb: rss / 1024 }
  } catch {
    return undefined
  }
}
