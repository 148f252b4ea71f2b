/**
 * One supervised stdio child: spawn it, frame its stdout into lines, log its stderr line by line
 * with its tag, write messages to its stdin, and stop it (SIGTERM, then SIGKILL after a grace
 * period), resolving once it has exited. Spawn failures and exits are reported through onExit,
 * never thrown, so the daemon keeps serving.
 *
 * On POSIX the child leads a process group of its own, and stop() signals the whole group: a
 * server started through a wrapper (npx, a shell script, uv) is stopped with everything it
 * started, and a grandchild that keeps the stdio pipes open cannot keep stop() waiting. stop()
 * is bounded: after SIGKILL it waits at most CLOSE_WAIT_MS more for the pipes to close, then
 * closes them itself (issue 11, item 18: every child ends within the grace, whatever its state).
 */
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import type {Logger} from '../log.js'
import {LineSplitter} from './framing.js'

export interface ChildSpec {
  command: string
  args: readonly string[]
  env: Record<string, string>
  cwd?: string
}

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: Error
}

export interface ChildProcessOptions {
  spec: ChildSpec
  tag: string
  logger: Logger
  maxLineBytes: number
  onLine(line: string): void
  /** A stdout line longer than maxLineBytes was dropped; tail and head hold its last and first bytes. */
  onOversize(bytes: number, tail: string, head: string): void
  onExit(exit: ChildExit): void
}

export interface ChildProcess {
  readonly pid: number | undefined
  readonly tag: string
  readonly exited: boolean
  /** Writes one message (a JSON text without newline). False if the child is gone. */
  send(line: string): boolean
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
  stop(graceMs: number): Promise<void>
  /** Its last stderr lines, oldest first (at most STDERR_TAIL_LINES, each cut to STDERR_TAIL_CHARS), for the console. */
  stderrTail(): string[]
}

/** The bounded stderr ring kept per child: lines and characters per line. */
export const STDERR_TAIL_LINES = 20
export const STDERR_TAIL_CHARS = 500

/** After the process has exited (or been SIGKILLed), how long its stdio may stay open, ms. */
export const CLOSE_WAIT_MS = 250

const GROUPS = process.platform !== 'win32'

export function startChild(options: ChildProcessOptions): ChildProcess {
  const {spec, tag, logger} = options
  let exited = false
  let exitPromiseResolve!: () => void
  const exitPromise = new Promise<void>((resolve) => (exitPromiseResolve = resolve))
  let proc: ChildProcessWithoutNullStreams
  const finish = (exit: ChildExit) => {
    if (exited) return
    exited = true
    exitPromiseResolve()
    options.onExit(exit)
  }
  try {
    proc = spawn(spec.command, spec.args as string[], {
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      // Its own process group (see the header); not a daemon: it still dies with its stdin.
      detached: GROUPS,
    })
  } catch (error) {
    // spawn throws synchronously for some invalid arguments; report like an async failure.
    const err = error instanceof Error ? error : new Error(String(error))
    queueMicrotask(() => finish({code: null, signal: null, spawnError: err}))
    return {
      pid: undefined,
      tag,
      get exited() {
        return exited
      },
      send: () => false,
      stop: () => exitPromise,
      stderrTail: () => [],
    }
  }

  const splitter = new LineSplitter({
    maxLineBytes: options.maxLineBytes,
    onLine: options.onLine,
    onOversize: options.onOversize,
  })
  proc.stdout.on('data', (chunk: Buffer) => splitter.push(chunk))
  const tail: string[] = []
  const stderr = new LineSplitter({
    maxLineBytes: 16 * 1024,
    onLine: (line) => {
      tail.push(line.length > STDERR_TAIL_CHARS ? line.slice(0, STDERR_TAIL_CHARS) + '…' : line)
      if (tail.length > STDERR_TAIL_LINES) tail.shift()
      logger.info('child stderr', {child: tag, line})
    },
    onOversize: (bytes) => logger.warn('child stderr line too long, dropped', {child: tag, bytes}),
  })
  proc.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  // EPIPE and friends when the child dies while we write: the exit handler reports it.
  proc.stdin.on('error', (error) => logger.debug('child stdin error', {child: tag, error: error.message}))
  proc.on('error', (error) => {
    if (proc.pid === undefined || (error as NodeJS.ErrnoException).code === 'ENOENT') {
      finish({code: null, signal: null, spawnError: error})
    } else {
      logger.warn('child process error', {child: tag, error: error.message})
    }
  })
  // 'close' waits for stdio to end too, so every line the child wrote is delivered before onExit.
  proc.on('close', (code, signal) => finish({code, signal}))
  let processGone = false
  proc.once('exit', () => {
    processGone = true
    // A descendant that still holds the pipes must not keep the child "running" for ever.
    setTimeout(() => closePipes(), CLOSE_WAIT_MS).unref()
  })
  const closePipes = () => {
    if (exited) return
    signalAll('SIGKILL')
    proc.stdout.destroy()
    proc.stderr.destroy()
    proc.stdin.destroy()
  }
  /** Signals the child's process group (itself where there are none); false if nothing was there. */
  const signalAll = (sig: NodeJS.Signals): boolean => {
    if (proc.pid === undefined) return false
    if (GROUPS) {
      try {
        process.kill(-proc.pid, sig)
        return true
      } catch {
        // The group is gone (or never formed): fall back to the process itself.
      }
    }
    return processGone ? false : proc.kill(sig)
  }

  let corked = false
  const uncork = () => {
    corked = false
    proc.stdin.uncork()
  }
  return {
    get pid() {
      return proc.pid
    },
    tag,
    get exited() {
      return exited
    },
    stderrTail: () => [...tail],
    send(line) {
      if (exited || !proc.stdin.writable) return false
      // Messages written in one tick leave in one write(v) syscall instead of one each.
      if (!corked) {
        corked = true
        proc.stdin.cork()
        process.nextTick(uncork)
      }
      proc.stdin.write(line + '\n')
      return true
    },
    async stop(graceMs) {
      if (exited || proc.pid === undefined) return exitPromise
      proc.stdin.end()
      signalAll('SIGTERM')
      const timer = setTimeout(() => {
        if (exited) return
        if (!processGone) logger.warn('child did not stop after SIGTERM, killing', {child: tag, pid: proc.pid})
        signalAll('SIGKILL')
        // SIGKILL cannot be ignored; pipes held by an escaped descendant are closed here.
        setTimeout(closePipes, CLOSE_WAIT_MS).unref()
      }, graceMs)
      timer.unref()
      await exitPromise
      clearTimeout(timer)
    },
  }
}
