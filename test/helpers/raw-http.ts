import {connect} from 'node:net'

/**
 * Sends bytes exactly as given on a fresh TCP connection and returns what came back (until the
 * server closes or `idleMs` passes without data). For malformed-HTTP tests that no client library
 * would let us write.
 */
export function rawExchange(port: number, payload: string | Buffer, {idleMs = 300}: {idleMs?: number} = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    let timer: NodeJS.Timeout
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(data)
    }
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(done, idleMs)
    }
    socket.on('connect', () => {
      socket.write(payload)
      arm()
    })
    socket.on('data', (d) => {
      data += d.toString('latin1')
      arm()
    })
    socket.on('end', done)
    socket.on('close', done)
    socket.on('error', (e) => (data ? done() : reject(e)))
  })
}

/** The status codes of every response in a raw exchange, in order. */
export const statuses = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))
