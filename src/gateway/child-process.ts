/**
 * One supervised stdio child: spawn it, frame its stdout into lines, log its stderr line by line
 * with its tag, write messages to its stdin, and stop it (SIGTERM, then SIGKILL after a grace
 * period), resolving once it has exited. Spawn failures and exits are reported through onExit,
 * never thrown, so the daemon keeps serving.
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
}

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
    }
  }

  const splitter = new LineSplitter({
    maxLineBytes: options.maxLineBytes,
    onLine: options.onLine,
    onOversize: options.onOversize,
  })
  proc.stdout.on('data', (chunk: Buffer) => splitter.push(chunk))
  const stderr = new LineSplitter({
    maxLineBytes: 16 * 1024,
    onLine: (line) => logger.info('child stderr', {child: tag, line}),
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
      proc.kill('SIGTERM')
      const timer = setTimeout(() => {
        if (!exited) {
          logger.warn('child did not stop after SIGTERM, killing', {child: tag, pid: proc.pid})
          proc.kill('SIGKILL')
        }
      }, graceMs)
      timer.unref()
      await exitPromise
      clearTimeout(timer)
    },
  }
}
