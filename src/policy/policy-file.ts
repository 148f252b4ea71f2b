import {watch, type FSWatcher} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {readFileSync} from 'node:fs'
import {basename, dirname, resolve} from 'node:path'
import {GatehouseError} from '../errors.js'
import type {Logger} from '../log.js'
import {parsePolicy} from './parse-policy.js'
import {PolicyError, type Policy} from './policy.js'

export interface PolicySource {
  current(): Policy
  /** Called after each successful reload. */
  onChange(listener: (policy: Policy) => void): void
  close(): void
}

/**
 * A policy file, loaded at start (a broken file stops the start with the line and reason) and
 * reloaded when it changes: a good new version replaces the old at once; a broken one is logged
 * and the last good policy stays in force.
 */
export function loadPolicyFile(path: string, {logger, debounceMs = 100}: {logger: Logger; debounceMs?: number}): PolicySource {
  const file = resolve(path)
  let policy: Policy
  try {
    policy = parsePolicy(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new GatehouseError('CONFIG', `policy ${file}: ${describe(error)}`)
  }
  const listeners: Array<(p: Policy) => void> = []
  let timer: NodeJS.Timeout | undefined
  let lastText: string | undefined

  const reload = async () => {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      logger.error('policy not reloaded; the last good one stays in force', {file, error: describe(error)})
      return
    }
    if (text === lastText) return
    lastText = text
    try {
      policy = parsePolicy(text)
    } catch (error) {
      logger.error('policy not reloaded; the last good one stays in force', {file, error: describe(error)})
      return
    }
    logger.info('policy reloaded', {file, scopes: policy.scopes().join(' ')})
    for (const l of listeners) l(policy)
  }

  // Watch the directory: editors often replace a file by renaming a new one over it.
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dirname(file), (_event, name) => {
      if (name !== null && name !== basename(file)) return
      clearTimeout(timer)
      timer = setTimeout(() => void reload(), debounceMs)
    })
    watcher.unref()
  } catch (error) {
    logger.warn('cannot watch the policy file; changes need a restart', {file, error: describe(error)})
  }

  return {
    current: () => policy,
    onChange: (listener) => void listeners.push(listener),
    close() {
      clearTimeout(timer)
      watcher?.close()
    },
  }
}

function describe(error: unknown): string {
  if (error instanceof PolicyError) return error.message
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message
}
