import {Chalk, supportsColor, type ChalkInstance} from 'chalk'

/**
 * Colours follow NO_COLOR (https://no-color.org: any non-empty value turns them off) and
 * FORCE_COLOR (chalk's own rule); otherwise whether the terminal supports them.
 */
export function colorLevel(env: NodeJS.ProcessEnv = process.env): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR && !('FORCE_COLOR' in env)) return 0
  return supportsColor ? supportsColor.level : 0
}

export const createColors = (env: NodeJS.ProcessEnv = process.env): ChalkInstance => new Chalk({level: colorLevel(env)})
