/**
 * The `x-mcp-header` declarations of one child's tools (MCP 2026-07-28
 * transports-streamable-http §Custom Headers from Tool Parameters; modern/tool-headers.ts checks
 * a call's Mcp-Param-* headers against them). Read from the child's own `tools/list` (every
 * page, at most MAX_TOOL_PAGES), once, and kept until the child says its tools changed
 * (`notifications/tools/list_changed`: `drop()`).
 */
import type {ChildLink} from './child-link.js'
import {addToolsPage, type ToolHeaders} from './modern/tool-headers.js'

/** Pages of the child's tools/list read for x-mcp-header declarations. */
export const MAX_TOOL_PAGES = 20

/** One child's tools' header declarations, fetched lazily through `link`, cached until dropped. */
export class ToolHeaderCache {
  private cached: Promise<ToolHeaders> | undefined

  constructor(
    private readonly link: ChildLink,
    /** Deadline (ms) of each tools/list page. */
    private readonly requestTimeoutMs: number,
  ) {}

  /**
   * The declarations, fetched on first use. When the list cannot be had (error, timeout, no
   * child) the answer is empty and the next call asks again. Never rejects.
   */
  get(): Promise<ToolHeaders> {
    this.cached ??= this.fetch().catch(() => {
      this.cached = undefined
      return new Map() as ToolHeaders
    })
    return this.cached
  }

  /** Forgets the declarations (the child's tools changed). */
  drop(): void {
    this.cached = undefined
  }

  private async fetch(): Promise<ToolHeaders> {
    const headers: ToolHeaders = new Map()
    if (!this.link.running || this.link.dead) throw new Error('no child')
    let cursor: unknown
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const params: Record<string, unknown> = cursor === undefined ? {} : {cursor}
      if (this.link.era === 'modern') params._meta = this.link.ownMeta()
      const answer = await this.link.call('tools/list', params, this.requestTimeoutMs)
      if (typeof answer.result !== 'object' || answer.result === null) throw new Error('tools/list failed')
      addToolsPage(headers, answer.result)
      cursor = (answer.result as {nextCursor?: unknown}).nextCursor
      if (typeof cursor !== 'string') break
    }
    return headers
  }
}
