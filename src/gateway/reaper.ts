/**
 * Reaps children a previous daemon left behind (it was SIGKILLed, so it could not stop them):
 * for each pid in children.json whose /proc start time still matches the recorded one, send
 * SIGTERM, then SIGKILL after the grace period. A pid whose start time differs belongs to some
 * other process now and is left alone; without /proc nothing is killed.
 *
 * Only children whose daemon is gone are reaped. The data dir's lock (src/daemon/daemon-lock.ts)
 * already keeps a second daemon from starting; here, in depth: when the registry's recorded
 * owner (pid + start time) is another process that still runs, nothing is touched and the file
 * is kept. A registry without an owner (written by an older version): a child whose parent is a
 * live process other than init and us is spared, as its daemon may still hold it (under a
 * subreaper this can leave an orphan running: a leak, never a wrong kill).
 */
import type {Logger} from '../log.js'
import {liveness, parentPid, processStartTime} from '../daemon/process-identity.js'
import {readRegistry, readRegistryOwner, registryFile} from './child-registry.js'
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
  const owner = await readRegistryOwner(dataDir)
  if (owner !== null && owner.pid !== process.pid && (await liveness(owner.pid, owner.startTime)) === 'alive') {
    logger.warn('children.json belongs to a daemon that still runs; its children are left alone', {daemon_pid: owner.pid})
    return {killed: [], skipped: records.map((r) => r.pid)}
  }
  await Promise.all(
    records.map(async (record) => {
      const now = await processStartTime(record.pid)
      if (now === null || record.startTime === null || now !== record.startTime || (owner === null && (await parentAlive(record.pid)))) {
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

/** The child's parent is a live process other than init and this one: its daemon still runs. */
async function parentAlive(pid: number): Promise<boolean> {
  const ppid = await parentPid(pid)
  if (ppid === null || ppid <= 1 || ppid === process.pid) return false
  return (await processStartTime(ppid)) !== null
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
