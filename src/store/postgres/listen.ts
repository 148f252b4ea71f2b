import type pg from 'pg'
import type {Clock} from '../../clock.js'
import {CHANGE_TOPICS, type ChangeFeed, type ChangeTopic} from '../changes.js'
import type {Connection, Sql} from './connect.js'

export const CHANNEL = 'gatehouse_changes'

export interface ChangeListener {
  /** Whether the LISTEN connection is up and the versions were read since it last came up. */
  connected(): boolean
  close(): Promise<void>
}

/**
 * Other nodes' changes, pushed: one connection of its own that LISTENs on `gatehouse_changes`
 * (the triggers of src/store/postgres/migrations.ts NOTIFY the topic at commit), and a periodic
 * comparison of the per-topic versions as a safety net for a notification that never came.
 *
 * While that connection is down nothing is pushed, so the feed announces `'all'` at most every
 * `versionCheckMs` (every cache reloads before it answers), and once it is back, `'all'` again:
 * whatever happened while it was away is read before the next answer.
 */
export async function listenForChanges({
  connection,
  sql,
  feed,
  versionCheckMs = 1000,
  reconnectMs = 500,
  clock,
}: {
  connection: Connection
  sql: Sql
  feed: ChangeFeed
  versionCheckMs?: number
  reconnectMs?: number
  clock: Clock
}): Promise<ChangeListener> {
  let client: pg.Client | undefined
  let up = false
  let closed = false
  let versions = new Map<string, number>()
  let lastAll = 0

  const readVersions = async () => new Map((await sql<{topic: string; version: number}>('SELECT topic, version FROM changes')).map((r) => [r.topic, r.version]))

  async function connect(): Promise<void> {
    const c = connection.newClient()
    c.on('error', () => lost(c))
    c.on('end', () => lost(c))
    c.on('notification', (n) => {
      if (n.channel === CHANNEL && n.payload && (CHANGE_TOPICS as readonly string[]).includes(n.payload)) feed.emit(n.payload as ChangeTopic)
    })
    await c.connect()
    await c.query(`LISTEN ${CHANNEL}`)
    client = c
    // Listening from here on; whatever committed before is in the versions read now.
    versions = await readVersions()
    up = true
  }

  function lost(c: pg.Client) {
    if (client !== c) return
    client = undefined
    up = false
    c.removeAllListeners('notification')
    void c.end().catch(() => {})
    feed.emit('all')
    if (!closed) scheduleReconnect()
  }

  let reconnectTimer: NodeJS.Timeout | undefined
  function scheduleReconnect() {
    reconnectTimer ??= setTimeout(() => {
      reconnectTimer = undefined
      connect().then(
        () => feed.emit('all'),
        () => {
          client?.end().catch(() => {})
          client = undefined
          if (!closed) scheduleReconnect()
        },
      )
    }, reconnectMs)
    reconnectTimer.unref()
  }

  await connect()

  const poll = setInterval(() => {
    if (!up) {
      if (clock.now() - lastAll >= versionCheckMs) {
        lastAll = clock.now()
        feed.emit('all')
      }
      return
    }
    readVersions().then(
      (now) => {
        for (const [topic, v] of now) {
          if (versions.get(topic) !== v && (CHANGE_TOPICS as readonly string[]).includes(topic)) feed.emit(topic as ChangeTopic)
        }
        versions = now
      },
      () => feed.emit('all'),
    )
  }, versionCheckMs)
  poll.unref()

  return {
    connected: () => up,
    async close() {
      closed = true
      clearInterval(poll)
      if (reconnectTimer) clearTimeout(reconnectTimer)
      const c = client
      client = undefined
      up = false
      await c?.end().catch(() => {})
    },
  }
}
