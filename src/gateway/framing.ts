/**
 * Newline-delimited JSON-RPC framing for the stdio transport (MCP 2025-11-25 transports §stdio:
 * "Messages are delimited by newlines, and MUST NOT contain embedded newlines").
 *
 * A LineSplitter turns stdout chunks into lines without copying more than it must: complete
 * lines inside one chunk are decoded straight from it; only a line split across chunks is
 * buffered. A line longer than maxLineBytes is dropped (its bytes are not kept); the caller
 * learns of it through onOversize with the line's last bytes, so it can tell which request
 * the dropped message answered.
 */
const NL = 10
const TAIL_BYTES = 64

export interface LineSplitterOptions {
  maxLineBytes: number
  onLine(line: string): void
  onOversize(bytes: number, tail: string): void
}

export class LineSplitter {
  private parts: Buffer[] = []
  private partBytes = 0
  /** Dropping an oversized line: skip until the next newline. */
  private dropping = false
  private dropped = 0
  private dropTail: Buffer = Buffer.alloc(0)

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
        if (len > maxLineBytes) this.reportOversize(len, chunk.subarray(Math.max(start, nl - TAIL_BYTES), nl))
        else if (len > 0) onLine(chunk.toString('utf8', start, trimCr(chunk, start, nl)))
      } else {
        const total = this.partBytes + (nl - start)
        if (total > maxLineBytes) {
          this.reportOversize(total, chunk.subarray(Math.max(start, nl - TAIL_BYTES), nl))
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
      this.dropTail = lastBytes(Buffer.alloc(0), chunk.subarray(start))
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
    this.dropTail = Buffer.alloc(0)
    this.reportOversize(bytes, tail)
  }

  private reportOversize(bytes: number, tail: Buffer): void {
    this.options.onOversize(bytes, tail.toString('latin1'))
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
