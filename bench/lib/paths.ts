import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const ROOT = resolve(BENCH_DIR, '..')
export const NODE = process.execPath
export const ECHO_SERVER = join(BENCH_DIR, 'fixtures', 'echo-server.mjs')
/** The echo server as argv and as one shell-ready string (for gateways that take a string). */
export const ECHO_ARGV = [NODE, ECHO_SERVER]
export const ECHO_CMDLINE = `${NODE} ${ECHO_SERVER}`
export const benchModule = (...p: string[]) => join(BENCH_DIR, 'node_modules', ...p)
