import {spawn, spawnSync, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {createServer, connect} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'
import {serverPrefix} from './taskset.js'
import {treePids} from './proctree.js'

/**
 * Every process the benchmark starts goes through `start`, which puts it in a process group of
 * its own and remembers it, so `stopAll` (also run on exit, error and SIGINT/SIGTERM) can end
 * each group by its id. Nothing is ever killed by name.
 */
const running = new Set<ChildProcess>()

export interface Started {
  child: ChildProcess
  pid: number
  /** The tail of the process's log (stdout and stderr), for error messages. */
  output(): string
  stop(): Promise<void>
}

export interface StartOptions extends SpawnOptions {
  /** Pin to the server core (taskset -c 0) where taskset exists. Default true. */
  pin?: boolean
  /** Keep stdin as a pipe (for stdio servers); default ignore. */
  stdinPipe?: boolean
}

const logDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-logs-'))
let logSeq = 0

/**
 * Starts a process in its own group. Its output goes to a log file (not a pipe this process
 * reads, which would cost the load generator's core); `output()` returns the file's tail.
 */
export function start(command: string, args: string[], options: StartOptions = {}): Started {
  const {pin = true, stdinPipe = false, ...spawnOptions} = options
  const prefix = pin ? serverPrefix() : []
  const argv = [...prefix, command, ...args]
  const logFile = join(logDir, `${++logSeq}-${basename(command)}.log`)
  const fd = openSync(logFile, 'a')
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: [stdinPipe ? 'pipe' : 'ignore', stdinPipe ? 'pipe' : fd, fd],
    detached: true,
    ...spawnOptions,
  })
  closeSync(fd)
  if (child.pid === undefined) throw new Error(`could not start ${argv.join(' ')}`)
  running.add(child)
  child.on('exit', () => running.delete(child))
  const pid = child.pid
  return {
    child,
    pid,
    output: () => {
      try {
        return readFileSync(logFile, 'utf8').slice(-8192)
      } catch {
        return ''
      }
    },
    stop: () => stopChild(child),
  }
}

export function removeLogs(): void {
  rmSync(logDir, {recursive: true, force: true})
}

export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child)
    return
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // Descendants that moved to process groups of their own are ended by pid afterwards.
  const tree = treePids(child.pid!).slice(1)
  killGroup(child.pid!, 'SIGTERM')
  const timer = sleep(graceMs).then(() => 'timeout' as const)
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
    killGroup(child.pid!, 'SIGKILL')
    await Promise.race([exited, sleep(1000)])
  }
  // The group may still hold grandchildren after the leader exits.
  killGroup(child.pid!, 'SIGKILL')
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }
  running.delete(child)
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      /* gone */
    }
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stopChild(c, 1500)))
}

function stopAllNow(): void {
  for (const c of running) killGroup(c.pid!, 'SIGKILL')
  running.clear()
}

let installed = false
export function installCleanup(): void {
  if (installed) return
  installed = true
  process.on('exit', stopAllNow)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every process started\n`)
      stopAllNow()
      process.exit(130)
    })
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`)
    stopAllNow()
    process.exit(1)
  })
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as {port: number}).port
      srv.close(() => resolve(port))
    })
  })
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, started: Started, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) {
      throw new Error(`process exited (${started.child.exitCode}) before listening:\n${started.output()}`)
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(20)
  }
  throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms:\n${started.output()}`)
}

/** Runs a command to completion (bounded) and returns its output. */
export function runSync(command: string, args: string[], options: {cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv} = {}) {
  const r = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60000,
    maxBuffer: 256 * 1024 * 1024,
  })
  if (r.error) throw r.error
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}
