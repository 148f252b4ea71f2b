import {readFileSync, readdirSync} from 'node:fs'
import {spawnSync} from 'node:child_process'

/** CPU time and memory of a whole process tree, read from /proc. Linux only. */

export const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'})
  const n = Number.parseInt(r.stdout ?? '', 10)
  return Number.isFinite(n) && n > 0 ? n : 100
})()
const PAGE = (() => {
  const r = spawnSync('getconf', ['PAGESIZE'], {encoding: 'utf8'})
  const n = Number.parseInt(r.stdout ?? '', 10)
  return Number.isFinite(n) && n > 0 ? n : 4096
})()

interface Stat {
  pid: number
  ppid: number
  ticks: number
}

function readStat(pid: number): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ')
    // rest[0] = state (field 3), ppid = field 4, utime = 14, stime = 15
    return {pid, ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12])}
  } catch {
    return undefined
  }
}

/** The pid and all its live descendants. */
export function treePids(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0)
    if (c < 48 || c > 57) continue
    const st = readStat(Number(name))
    if (!st) continue
    const list = children.get(st.ppid)
    if (list) list.push(st.pid)
    else children.set(st.ppid, [st.pid])
  }
  const out: number[] = []
  const queue = [root]
  while (queue.length) {
    const p = queue.pop()!
    out.push(p)
    for (const c of children.get(p) ?? []) queue.push(c)
  }
  return out
}

/**
 * CPU seconds (user + system) consumed so far by the tree's live processes. Sampled before and
 * after a run over the same set of pids, so children that exit in between do not distort it.
 */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0
  for (const p of pids) ticks += readStat(p)?.ticks ?? 0
  return ticks / CLK_TCK
}

/** Resident set size in bytes, summed over the pids (RSS from /proc/<pid>/statm). */
export function rssBytes(pids: number[]): number {
  let total = 0
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')
      total += Number(f[1]) * PAGE
    } catch {
      /* gone */
    }
  }
  return total
}

export function treeRss(root: number): {bytes: number; processes: number} {
  const pids = treePids(root)
  return {bytes: rssBytes(pids), processes: pids.length}
}

/** CPU seconds the whole machine has spent busy (all cores; user, nice, system, irq, softirq, steal). */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number)
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f
    return (user + nice + system + irq + softirq + steal) / CLK_TCK
  } catch {
    return Number.NaN
  }
}
