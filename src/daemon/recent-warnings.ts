/**
 * The daemon's last warnings and errors, kept in memory for `gatehouse status`: a logger that
 * passes every line on and remembers the last `max` of level warn or error.
 */
import type {LogFields, Logger} from '../log.js'

export interface RecentWarning {
  time: string
  level: 'warn' | 'error'
  message: string
  fields: LogFields
}

export function rememberWarnings(logger: Logger, {max = 20, now = () => new Date()}: {max?: number; now?: () => Date} = {}): Logger & {recent(): RecentWarning[]} {
  const kept: RecentWarning[] = []
  const keep = (level: 'warn' | 'error', message: string, fields: LogFields = {}) => {
    kept.push({time: now().toISOString(), level, message, fields})
    if (kept.length > max) kept.shift()
  }
  return {
    debug: (m, f) => logger.debug(m, f),
    info: (m, f) => logger.info(m, f),
    warn: (m, f) => (keep('warn', m, f), logger.warn(m, f)),
    error: (m, f) => (keep('error', m, f), logger.error(m, f)),
    recent: () => [...kept],
  }
}
