/**
 * Which children this daemon has running, kept in <dataDir>/children.json so that a daemon
 * started after one that was SIGKILLed can reap what the dead one left behind (reaper.ts).
 * Each entry records the pid and the process start time from /proc/<pid>/stat, so a pid the
 * kernel has since reused for an unrelated process is never mistaken for our child.
 *
 * Writes are asynchronous (no sync I/O on the hot path), serialized, and atomic (temp + rename).
 */
import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {Logger} from '../log.js'
import {processStartTime} from '../daemon/process-identity.js'

export interface ChildRecord {
  pid: number
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22); null where /proc is absent. */
  startTime: string | null
  tag: string
}

export const registryFile = (dataDir: string) => join(dataDir, 'children.json')

/** The daemon that wrote the registry (pid and /proc start time), if recorded. */
export async function readRegistryOwner(dataDir: string): Promise<{pid: number; startTime: string | null} | null> {
  try {
    const owner = (JSON.parse(await readFile(registryFile(dataDir), 'utf8')) as {owner?: {pid?: unknown; startTime?: unknown}}).owner
    if (!owner || !Number.isInteger(owner.pid)) return null
    return {pid: owner.pid as number, startTime: typeof owner.startTime === 'string' ? owner.startTime : null}
  } catch {
    return null
  }
}

export async function readRegistry(dataDir: string): Promise<ChildRecord[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(registryFile(dataDir), 'utf8'))
    const list = (parsed as {children?: unknown}).children
    if (!Array.isArray(list)) return []
    return list.filter(
      (r): r is ChildRecord =>
        typeof r === 'object' && r !== null && Number.isInteger((r as ChildRecord).pid) && (r as ChildRecord).pid > 1,
    )
  } catch {
    return []
  }
}

export interface ChildRegistry {
  add(pid: number, tag: string): Promise<void>
  remove(pid: number): Promise<void>
  /** Resolves when every pending write has reached the disk. */
  flush(): Promise<void>
}

export function createChildRegistry({dataDir, logger}: {dataDir: string; logger: Logger}): ChildRegistry {
  const records = new Map<number, ChildRecord>()
  let chain: Promise<void> = Promise.resolve()
  let seq = 0
  // Which daemon the children belong to: the reaper spares them while it lives (reaper.ts).
  const owner = processStartTime(process.pid).then((startTime) => ({pid: process.pid, startTime}))
  const save = () => {
    const children = [...records.values()]
    const tmp = `${registryFile(dataDir)}.${process.pid}.${++seq}.tmp`
    chain = chain
      .then(async () => {
        const snapshot = JSON.stringify({owner: await owner, children}, null, 2) + '\n'
        await mkdir(dataDir, {recursive: true})
        await writeFile(tmp, snapshot, {mode: 0o600})
        await rename(tmp, registryFile(dataDir))
      })
      .catch((error: Error) => logger.warn('could not write the child registry', {error: error.message}))
    return chain
  }
  return {
    async add(pid, tag) {
      records.set(pid, {pid, startTime: await processStartTime(pid), tag})
      await save()
    },
    async remove(pid) {
      if (records.delete(pid)) await save()
    },
    flush: () => chain,
  }
}
