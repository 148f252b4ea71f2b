import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const ROOT = resolve(BENCH_DIR, '..')
export const NODE = process.execPath
export const ECHO_SERVER = join(BENCH_DIR, 'fixtures', 'echo-server.mjs')
/** The echo server as argv (lib/children.ts has it with the other children). */
export const ECHO_ARGV = [NODE, ECHO_SERVER]
export const benchModule = (...p: string[]) => join(BENCH_DIR, 'node_modules', ...p)
