import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chownSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {freePort} from './free-port.js'

/**
 * A throwaway PostgreSQL server for tests and benchmarks: Debian's server programs
 * (/usr/lib/postgresql/15/bin, or PG_BIN), `initdb` into a temp dir, `postgres` on a free
 * loopback port, stopped by pid. The server programs refuse to run as root, so as root they run
 * as the `postgres` user (runuser). Missing programs are an error, never a skip: CI installs
 * them (.ci/system-deps).
 *
 * One server per test file (start it in `before`, stop it in `after`) and a fresh database per
 * test (`database()`), which takes milliseconds instead of the second an initdb costs.
 */
export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  adminUrl: string
  port: number
  pid: number
  dir: string
  /** A new, empty database; its URL. */
  database(prefix?: string): Promise<string>
  /** SIGKILL (a crash) and wait for the exit; `start()` brings it back on the same port and data. */
  kill(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'
const asRoot = process.getuid?.() === 0

function run(program: string, args: string[]): void {
  const argv = asRoot ? ['runuser', '-u', 'postgres', '--', join(BIN, program), ...args] : [join(BIN, program), ...args]
  const r = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`${program} failed (${r.status}): ${r.stderr || r.stdout}`)
}


export async function startPostgres(): Promise<PostgresServer> {
  if (!existsSync(join(BIN, 'postgres'))) {
    throw new Error(`PostgreSQL server programs not found in ${BIN}: install Debian's postgresql package (.ci/system-deps does)`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'))
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], {encoding: 'utf8'}).stdout.trim())
    const gid = Number(spawnSync('id', ['-g', 'postgres'], {encoding: 'utf8'}).stdout.trim())
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C'])
  const port = await freePort()
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  async function start() {
    const argv = [join(BIN, 'postgres'), '-D', data, '-k', dir, '-p', String(port), '-h', '127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200']
    const full = asRoot ? ['runuser', '-u', 'postgres', '--', ...argv] : argv
    const proc = spawn(full[0]!, full.slice(1), {stdio: ['ignore', 'ignore', 'pipe']})
    child = proc
    let log = ''
    proc.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)))
    exited = new Promise((resolve) => proc.once('exit', () => resolve()))
    const deadline = Date.now() + 30_000
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`postgres exited at start: ${log}`)
      if (log.includes('ready to accept connections')) return
      if (Date.now() > deadline) throw new Error(`postgres did not start in 30 s: ${log}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  await start()

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`
  return {
    adminUrl,
    port,
    get pid() {
      return child?.pid ?? -1
    },
    dir,
    async database(prefix = 'gh') {
      const name = `${prefix}_${randomBytes(6).toString('hex')}`
      run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-qAt', '-c', `CREATE DATABASE ${name}`])
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    async kill() {
      // runuser stays the parent of postgres: signal the server itself (its pid is in the pid file's first line).
      const pidText = spawnSync('head', ['-1', join(data, 'postmaster.pid')], {encoding: 'utf8'}).stdout.trim()
      if (pidText) process.kill(Number(pidText), 'SIGKILL')
      await exited
      // A killed postmaster leaves its children to notice; wait until the port is free.
      for (let i = 0; i < 200; i++) {
        if (!spawnSync('sh', ['-c', `ss -ltn 'sport = :${port}' | grep -q LISTEN`]).status) await new Promise((r) => setTimeout(r, 50))
        else break
      }
    },
    start,
    async stop() {
      const pidText = existsSync(join(data, 'postmaster.pid')) ? spawnSync('head', ['-1', join(data, 'postmaster.pid')], {encoding: 'utf8'}).stdout.trim() : ''
      // SIGINT: the "fast" shutdown (disconnects clients, no waiting for them).
      if (pidText) process.kill(Number(pidText), 'SIGINT')
      else child?.kill('SIGINT')
      await exited
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
