import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {binEnv, repoRoot} from './cli.js'

export interface Daemon {
  url: string
  issuer: string
  child: ChildProcess
  stdout(): string
  stderr(): string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts the real daemon (`bin/oauth-server.js`, as users run it) on a free loopback port and
 * resolves once it says where it listens. Stopped when the test ends.
 */
export async function startDaemon(
  t: TestContext,
  {dataDir, args = [], env = {}, root = repoRoot}: {dataDir: string; args?: string[]; env?: Record<string, string>; root?: string},
): Promise<Daemon> {
  const child = spawn(process.execPath, [join(root, 'bin', 'oauth-server.js'), '--port', '0', ...args], {
    env: binEnv(dataDir, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /listening on (\S+)/.exec(out)
      if (m && /issuer\s+\S+/.test(out)) {
        child.stdout!.off('data', onData)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', onData)
    void exited.then((code) => reject(new Error(`daemon exited with ${code} before listening:\n${err}`)))
  })
  const issuer = /issuer\s+(\S+)/.exec(out)![1]!
  let stopped: Promise<number | null> | undefined
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return (stopped ??= exited)
  }
  t.after(() => stop())
  return {url, issuer, child, stdout: () => out, stderr: () => err, stop}
}
