import {mkdirSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {join, resolve} from 'node:path'
import {GatehouseError} from '../errors.js'

export interface DataDirEnv {
  GATEHOUSE_DATA_DIR?: string | undefined
  XDG_DATA_HOME?: string | undefined
  LOCALAPPDATA?: string | undefined
  APPDATA?: string | undefined
}

/**
 * The data dir: an explicit choice (flag, then GATEHOUSE_DATA_DIR), else the OS's per-user data
 * folder: $XDG_DATA_HOME/gatehouse or ~/.local/share/gatehouse on Linux and BSDs,
 * ~/Library/Application Support/gatehouse on macOS, %LOCALAPPDATA%\gatehouse on Windows.
 */
export function resolveDataDir(
  flag: string | undefined,
  env: DataDirEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const chosen = flag ?? env.GATEHOUSE_DATA_DIR
  if (chosen) return resolve(chosen)
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'gatehouse')
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? env.APPDATA ?? join(home, 'AppData', 'Local'), 'gatehouse')
  const xdg = env.XDG_DATA_HOME
  // XDG Base Directory spec: a relative XDG_DATA_HOME is invalid and must be ignored.
  const base = xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share')
  return join(base, 'gatehouse')
}

/** Creates the data dir (0700) if missing; fails with a clear message when it cannot be used. */
export function ensureDataDir(dir: string): string {
  try {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    const st = statSync(dir)
    if (!st.isDirectory()) throw new GatehouseError('STORAGE', `data dir ${dir} is not a directory`)
  } catch (error) {
    if (error instanceof GatehouseError) throw error
    const reason = (error as NodeJS.ErrnoException).code ?? String(error)
    throw new GatehouseError('STORAGE', `cannot use data dir ${dir}: ${describeFsError(reason)}`, {cause: error})
  }
  return dir
}

export function describeFsError(code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'ENOTDIR':
      return 'a parent is not a directory'
    case 'EROFS':
      return 'read-only file system'
    case 'ENOSPC':
      return 'no space left on device'
    case 'EEXIST':
      return 'exists and is not a directory'
    default:
      return code
  }
}

export const databaseFile = (dataDir: string) => join(dataDir, 'gatehouse.db')

const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/**
 * ` --data-dir DIR` for a command printed as a hint, when DIR is not the default one (the
 * default ignoring GATEHOUSE_DATA_DIR, which another shell may not have); '' when it is.
 */
export function dataDirArg(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return dataDir === resolveDataDir(undefined, {...env, GATEHOUSE_DATA_DIR: undefined}) ? '' : ` --data-dir ${shellWord(dataDir)}`
}
