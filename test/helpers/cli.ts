import {spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * The environment the real executables run with in tests: a bare one (as under a service
 * manager), no colours, no keychain, and the test's own data dir.
 */
export function binEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NO_COLOR: '1',
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_NO_KEYCHAIN: '1',
    ...extra,
  }
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs one of the real executables in bin/ (built code, as a user runs it), with no TTY, no
 * colours and the given data dir.
 */
export function runBin(
  bin: string,
  args: string[],
  {dataDir, env = {}, input, root = repoRoot}: {dataDir: string; env?: Record<string, string>; input?: string; root?: string},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', `${bin}.js`), ...args], {
      env: binEnv(dataDir, env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
    child.stdin.end(input ?? '')
  })
}
