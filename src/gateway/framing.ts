/**
 * Newline-delimited JSON-RPC framing for the stdio transport (MCP 2025-11-25 transports §stdio:
 * "Messages are delimited by newlines, and MUST NOT contain embedded newlines").
 *
 * A LineSplitter turns stdout chunks into lines without copying more than it must: complete
 * lines inside one chunk are decoded straight from it; only a line split across chunks is
 * buffered. A line longer than maxLineBytes is dropped (its bytes are not kept); the caller
 * learns of it through onOversize with the line's first and last bytes (HEAD_BYTES, TAIL_BYTES),
 * so it can tell which request the dropped message answered, whichever end holds the id
 * (src/gateway/oversize-line.ts).
 */
const NL = 10
export const TAIL_BYTES = 128
export const HEAD_BYTES = 512

export interface LineSplitterOptions {
  maxLineBytes: number
  onLine(line: string): void
  /** A line over the limit was dropped: its length, last TAIL_BYTES and first HEAD_BYTES (latin1). */
  onOversize(bytes: number, tail: string, head: string): void
}

export class LineSplitter {
  private parts: Buffer[] = []
  private partBytes = 0
  /** Dropping an oversized line: skip until the next newline. */
  private dropping = false
  private dropped = 0
  private dropTail: Buffer = Buffer.alloc(0)
  private dropHead: Buffer = Buffer.alloc(0)

  constructor(private readonly options: LineSplitterOptions) {}

  push(chunk: Buffer): void {
    const {maxLineBytes, onLine} = this.options
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(NL, start)
      if (nl === -1) break
      if (this.dropping) {
        this.finishDrop(chunk, start, nl)
      } else if (this.partBytes === 0) {
        const len = nl - start
        if (len > maxLineBytes) this.reportOversize(len, chunk.subarray(Math.max(start, nl - TAIL_BYTES), nl), chunk.subarray(start, start + HEAD_BYTES))
        else if (len > 0) onLine(chunk.toString('utf8', start, trimCr(chunk, start, nl)))
      } else {
        const total = this.partBytes + (nl - start)
        if (total > maxLineBytes) {
          const head = firstOf([...this.parts, chunk.subarray(start, start + HEAD_BYTES)])
          this.reportOversize(total, lastBytes(lastOf(this.parts), chunk.subarray(start, nl)), head.subarray(0, HEAD_BYTES))
        } else {
          this.parts.push(chunk.subarray(start, nl))
          const joined = Buffer.concat(this.parts, total)
          onLine(joined.toString('utf8', 0, trimCr(joined, 0, joined.length)))
        }
        this.parts = []
        this.partBytes = 0
      }
      start = nl + 1
    }
    if (start >= chunk.length) return
    const rest = chunk.length - start
    if (this.dropping) {
      this.dropped += rest
      this.dropTail = lastBytes(this.dropTail, chunk.subarray(start))
      return
    }
    if (this.partBytes + rest > maxLineBytes) {
      // Start dropping: the line is already too long; keep nothing but its tail.
      this.dropping = true
      this.dropped = this.partBytes + rest
      this.dropTail = lastBytes(lastOf(this.parts), chunk.subarray(start))
      this.dropHead = Buffer.from(firstOf([...this.parts, chunk.subarray(start, start + HEAD_BYTES)]))
      this.parts = []
      this.partBytes = 0
      return
    }
    // Copy: the chunk may be reused by the stream.
    this.parts.push(Buffer.from(chunk.subarray(start)))
    this.partBytes += rest
  }

  private finishDrop(chunk: Buffer, start: number, nl: number): void {
    const tail = lastBytes(this.dropTail, chunk.subarray(start, nl))
    const bytes = this.dropped + (nl - start)
    this.dropping = false
    this.dropped = 0
    const head = this.dropHead
    this.dropTail = Buffer.alloc(0)
    this.dropHead = Buffer.alloc(0)
    this.reportOversize(bytes, tail, head)
  }

  private reportOversize(bytes: number, tail: Buffer, head: Buffer): void {
    this.options.onOversize(bytes, tail.toString('latin1'), head.subarray(0, HEAD_BYTES).toString('latin1'))
  }
}

function trimCr(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === 13 ? end - 1 : end
}

function lastBytes(prev: Buffer, next: Buffer): Buffer {
  if (next.length >= TAIL_BYTES) return Buffer.from(next.subarray(next.length - TAIL_BYTES))
  const both = Buffer.concat([prev, next])
  return both.length > TAIL_BYTES ? Buffer.from(both.subarray(both.length - TAIL_BYTES)) : both
}

/** The last TAIL_BYTES of a list of buffers, copying no more than that. */
function lastOf(parts: Buffer[]): Buffer {
  const picked: Buffer[] = []
  let n = 0
  for (let i = parts.length - 1; i >= 0 && n < TAIL_BYTES; i--) {
    picked.unshift(parts[i]!)
    n += parts[i]!.length
  }
  const both = Buffer.concat(picked)
  return both.subarray(Math.max(0, both.length - TAIL_BYTES))
}

/** The first HEAD_BYTES of a list of buffers, copying no more than that. */
function firstOf(parts: Buffer[]): Buffer {
  const picked: Buffer[] = []
  let n = 0
  for (const p of parts) {
    if (n >= HEAD_BYTES) break
    picked.push(p.subarray(0, HEAD_BYTES - n))
    n += Math.min(p.length, HEAD_BYTES - n)
  }
  return Buffer.concat(picked)
}
