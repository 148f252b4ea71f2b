import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {NodeRecord, Store} from '../store/types.js'

/** How often a node writes its heartbeat row, ms; a node silent for three beats counts as gone. */
export const HEARTBEAT_MS = 5000
export const NODE_GONE_AFTER_MS = 3 * HEARTBEAT_MS

/**
 * This daemon's row in the store's `nodes` table, refreshed every `intervalMs`, removed on a
 * clean stop (a killed node's row ages out after NODE_GONE_AFTER_MS). `live()` lists the nodes
 * heard from recently, this one included: what `gatehouse status` shows. A failed beat (the
 * database away) is logged and retried at the next one.
 */
export async function startHeartbeat({
  store,
  node,
  clock,
  logger,
  intervalMs = HEARTBEAT_MS,
}: {
  store: Store
  node: Omit<NodeRecord, 'seenAt'>
  clock: Clock
  logger: Logger
  intervalMs?: number
}) {
  const goneAfter = 3 * intervalMs
  const beat = () => store.nodes.beat({...node, seenAt: clock.now()})
  await beat()
  let failing = false
  const timer = setInterval(() => {
    beat().then(
      () => (failing = false),
      (error: unknown) => {
        if (!failing) logger.warn('heartbeat failed', {error: (error as Error).message})
        failing = true
      },
    )
  }, intervalMs)
  timer.unref()
  return {
    id: node.id,
    /** Nodes heard from within three beats, oldest start first. */
    live: () => store.nodes.live(clock.now() - goneAfter),
    async close() {
      clearInterval(timer)
      await store.nodes.leave(node.id, clock.now() - goneAfter).catch(() => {})
    },
  }
}
