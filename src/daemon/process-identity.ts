/**
 * Telling a process apart from a later one that got the same pid: Linux's /proc/<pid>/stat
 * field 22 (start time in clock ticks since boot) is recorded beside the pid, and a pid is "the
 * same process" only while that field still matches. Without /proc (macOS, Windows) only the
 * pid's existence can be checked, and callers must confirm by other means (the status socket).
 */
import {readFile} from 'node:fs/promises'
import {existsSync} from 'node:fs'

/** Field 22 of /proc/<pid>/stat, or null if the process (or /proc) is not there. */
export async function processStartTime(pid: number): Promise<string | null> {
  let stat: string
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // comm (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state), so field 22 is rest[19]; rest[1] is field 4 (ppid).
  return rest[19] ?? null
}

/** The parent pid (field 4 of /proc/<pid>/stat), or null. */
export async function parentPid(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isInteger(ppid) ? ppid : null
  } catch {
    return null
  }
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS), or null. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

export type Liveness = 'alive' | 'gone' | 'reused' | 'unverified'

/**
 * Whether the process recorded as (pid, startTime) still runs: `alive` (same pid, same start
 * time), `gone` (no such pid), `reused` (the pid now belongs to a later process), or
 * `unverified` (the pid exists but there is no /proc to compare start times).
 */
export async function liveness(pid: number, startTime: string | null, procRoot = '/proc'): Promise<Liveness> {
  if (existsSync(`${procRoot}/self/stat`)) {
    const now = await processStartTime(pid)
    if (now === null) return 'gone'
    return startTime !== null && now === startTime ? 'alive' : 'reused'
  }
  try {
    process.kill(pid, 0)
    return 'unverified'
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'unverified' : 'gone'
  }
}
