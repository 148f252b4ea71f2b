import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {connect, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * Real nginx (Debian's nginx-light, /usr/sbin/nginx, or NGINX_BIN) as the load balancer in front
 * of several daemons: a non-daemon child with its own prefix (config, pid file, logs, temp paths)
 * in a temp dir, on a free loopback port, stopped by pid. Missing nginx is an error, never a
 * skip: .ci/system-deps installs it.
 *
 * The config is the one README.md gives ("Several daemons on one PostgreSQL"): requests with an
 * Mcp-Session-Id go by a consistent hash of it to the node that opened the session; requests
 * without one (OAuth endpoints, initialize, 2026-07-28 stateless requests) are spread round-robin,
 * which is what nginx's hash does for an empty key.
 */
export interface Balancer {
  url: string
  port: number
  pid: number
  /** The config file as written (what README.md shows). */
  config: string
  errorLog(): string
  stop(): Promise<void>
}

const BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
}

/** The upstream and server blocks of the balancer (README.md shows the same). */
export function balancerConfig({listen, upstreams}: {listen: string; upstreams: string[]}): string {
  return `upstream gatehouse {
    # A 2025 MCP session lives on the node that opened it: route by its id. An empty key
    # (no session yet, OAuth endpoints, 2026-07-28 requests) is balanced round-robin.
    hash $http_mcp_session_id consistent;
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen ${listen};
    location / {
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # Server-sent events: pass each event on at once, keep long streams open.
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 1h;
      # A node that is down: try the next one, but never re-send a POST that may have run.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
    }
  }`
}

export async function startNginx({upstreams, port}: {upstreams: string[]; port?: number}): Promise<Balancer> {
  if (!existsSync(BIN)) throw new Error(`nginx not found at ${BIN}: install Debian's nginx-light (.ci/system-deps does)`)
  const listenPort = port ?? (await freePort())
  const prefix = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'))
  for (const d of ['logs', 'temp']) mkdirSync(join(prefix, d))
  const asRoot = process.getuid?.() === 0
  const config = `${asRoot ? 'user root root;\n' : ''}worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/temp/body;
  proxy_temp_path ${prefix}/temp/proxy;
  fastcgi_temp_path ${prefix}/temp/fastcgi;
  uwsgi_temp_path ${prefix}/temp/uwsgi;
  scgi_temp_path ${prefix}/temp/scgi;
  ${balancerConfig({listen: `127.0.0.1:${listenPort}`, upstreams})}
}
`
  const file = join(prefix, 'nginx.conf')
  writeFileSync(file, config)
  const child: ChildProcess = spawn(BIN, ['-p', prefix, '-c', file, '-e', join(prefix, 'logs', 'error.log'), '-g', 'daemon off;'], {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited at start (${child.exitCode}): ${stderr}`)
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(listenPort, '127.0.0.1')
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (up) break
    if (Date.now() > deadline) throw new Error(`nginx did not listen in 10 s: ${stderr}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url: `http://127.0.0.1:${listenPort}`,
    port: listenPort,
    pid: child.pid!,
    config,
    errorLog: () => {
      try {
        return readFileSync(join(prefix, 'logs', 'error.log'), 'utf8')
      } catch {
        return ''
      }
    },
    async stop() {
      // SIGTERM to the master (its pid): a fast shutdown; workers go with it.
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM')
      const timer = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
      rmSync(prefix, {recursive: true, force: true})
    },
  }
}
