/**
 * Reaps children a previous daemon left behind (it was SIGKILLed, so it could not stop them):
 * for each pid in children.json whose /proc start time still matches the recorded one, send
 * SIGTERM, then SIGKILL after the grace period. A pid whose start time differs belongs to some
 * other process now and is left alone; without /proc nothing is killed.
 */
import type {Logger} from '../log.js'
import {processStartTime, readRegistry, registryFile} from './child-registry.js'
import {readFile, rm} from 'node:fs/promises'

export interface ReapResult {
  killed: number[]
  skipped: number[]
}

export async function reapLeftoverChildren({
  dataDir,
  logger,
  killGraceMs,
  wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
}: {
  dataDir: string
  logger: Logger
  killGraceMs: number
  /** How to wait between checks that a signalled process is gone. */
  wait?: (ms: number) => Promise<void>
}): Promise<ReapResult> {
  const records = await readRegistry(dataDir)
  const result: ReapResult = {killed: [], skipped: []}
  await Promise.all(
    records.map(async (record) => {
      const now = await processStartTime(record.pid)
      if (now === null || record.startTime === null || now !== record.startTime) {
        result.skipped.push(record.pid)
        return
      }
      logger.warn('reaping a child left by a previous daemon', {pid: record.pid, child: record.tag})
      if (!signal(record.pid, 'SIGTERM')) return
      const step = Math.max(1, Math.min(50, killGraceMs / 10))
      for (let waited = 0; waited < killGraceMs; waited += step) {
        if (!(await stillOurs(record))) break
        await wait(step)
      }
      if (await stillOurs(record)) signal(record.pid, 'SIGKILL')
      result.killed.push(record.pid)
    }),
  )
  await rm(registryFile(dataDir), {force: true})
  return result
}

async function stillOurs(record: {pid: number; startTime: string | null}): Promise<boolean> {
  const start = await processStartTime(record.pid)
  if (start === null || start !== record.startTime) return false
  // A zombie has exited already; only its parent (now init) can collect it.
  try {
    const stat = await readFile(`/proc/${record.pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig)
    return true
  } catch {
    return false
  }
}
