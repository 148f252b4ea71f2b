/**
 * One logger for the daemon: a line per event, text for people or JSON for machines
 * (`--log-format json`). Never log a secret or a token: callers pass ids, not credentials.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, string | number | boolean | null | undefined>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const order: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40}

/**
 * Lines written in one turn of the event loop leave in one write: under load that is one system
 * call for many requests instead of one each (stderr to a pipe or file is synchronous).
 */
export function batchedStderr(): (line: string) => void {
  let pending = ''
  const flush = () => {
    const out = pending
    pending = ''
    if (out) process.stderr.write(out)
  }
  process.once('exit', flush)
  return (line) => {
    if (pending === '') setImmediate(flush)
    pending += line
  }
}

/**
 * `escape` makes text safe for a terminal in the text format (the CLI passes its one escaping
 * function, cli/terminal-text.ts: log fields carry client names, tool names, a child's stderr);
 * the JSON format is exact and needs none.
 */
export function createLogger({
  format = 'text',
  level = 'info',
  write = batchedStderr(),
  now = () => new Date(),
  escape,
}: {format?: 'text' | 'json'; level?: LogLevel; write?: (line: string) => void; now?: () => Date; escape?: (text: string) => string} = {}): Logger {
  const min = order[level]
  const emit = (lvl: LogLevel, message: string, fields: LogFields = {}) => {
    if (order[lvl] < min) return
    const time = now().toISOString()
    if (format === 'json') {
      write(JSON.stringify({time, level: lvl, msg: message, ...fields}) + '\n')
      return
    }
    let line = `${time} ${lvl.toUpperCase().padEnd(5)} ${escape ? escape(message) : message}`
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue
      const s = escape ? escape(String(v)) : String(v)
      // An escaped value has no control characters left and its backslashes doubled: quoting it needs only \".
      const quoted = escape ? `"${s.replace(/"/g, '\\"')}"` : JSON.stringify(s)
      line += ` ${k}=${/[\s"=]/.test(s) || s === '' ? quoted : s}`
    }
    write(line + '\n')
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  }
}

/** A logger that keeps lines in memory; for tests. */
export function memoryLogger(): Logger & {lines: Array<{level: LogLevel; message: string; fields: LogFields}>} {
  const lines: Array<{level: LogLevel; message: string; fields: LogFields}> = []
  const push = (level: LogLevel) => (message: string, fields: LogFields = {}) => void lines.push({level, message, fields})
  return {lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error')}
}
