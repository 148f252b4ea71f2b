import {spawnSync} from 'node:child_process'
import {cpus} from 'node:os'

/**
 * CPU pinning: the server's process tree on core 0, the load generator (this process) on core 1,
 * where `taskset` exists and the machine has two cores or more. Children inherit affinity, so a
 * server started under `taskset -c 0` keeps its stdio children on core 0 too.
 */
let cached: boolean | undefined

export function hasTaskset(): boolean {
  if (cached === undefined) {
    const r = spawnSync('taskset', ['-V'], {encoding: 'utf8'})
    cached = !r.error && r.status === 0 && cpuCount() >= 2
  }
  return cached
}

/** Cores of the machine (not of this process's affinity mask, which pinning narrows). */
export function cpuCount(): number {
  return cpus().length || 1
}

export const SERVER_CORE = 0
export const LOADGEN_CORE = 1

export function serverPrefix(): string[] {
  return hasTaskset() ? ['taskset', '-c', String(SERVER_CORE)] : []
}

/** Pins every thread of a pid to a core. Returns false when it could not. */
export function pin(pid: number, core: number): boolean {
  if (!hasTaskset()) return false
  const r = spawnSync('taskset', ['-a', '-cp', String(core), String(pid)], {encoding: 'utf8'})
  return r.status === 0
}

export function pinSelfToLoadgenCore(): boolean {
  return pin(process.pid, LOADGEN_CORE)
}
