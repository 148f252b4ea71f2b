import {chmodSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {GatehouseError} from '../errors.js'
import type {SecretVault} from './vault.js'

/**
 * The fallback when no OS keychain is usable: one JSON file in the data dir, mode 0600, replaced
 * atomically (write a temporary file, fsync, rename) so a crash never leaves half a file.
 */
export function createFileVault(dataDir: string): SecretVault {
  const file = join(dataDir, 'secrets.json')
  const read = (): Record<string, string> => {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw new GatehouseError('STORAGE', `cannot read ${file}: ${(error as Error).message}`)
    }
    try {
      return JSON.parse(text) as Record<string, string>
    } catch {
      throw new GatehouseError('STORAGE', `${file} is damaged (not JSON); restore it or remove it to start over`)
    }
  }
  const write = (data: Record<string, string>) => {
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', {mode: 0o600, flush: true})
    chmodSync(tmp, 0o600)
    renameSync(tmp, file)
  }
  return {
    kind: 'file',
    location: file,
    async get(account) {
      return read()[account] ?? null
    },
    async set(account, value) {
      write({...read(), [account]: value})
    },
    async delete(account) {
      const data = read()
      if (!(account in data)) return false
      delete data[account]
      write(data)
      return true
    },
  }
}
