import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {freePort} from './free-port.js'

/**
 * Real nginx (Debian's nginx-light, /usr/sbin/nginx, or NGINX_BIN) as the load balancer in front
 * of several daemons: a non-daemon child with its own prefix (config, pid file, logs, temp paths)
 * in a temp dir, on a free loopback port, stopped by pid. Missing nginx is an error, never a
 * skip: .ci/system-deps installs it.
 *
 * The config is the one README.md gives ("Several daemons on one PostgreSQL"): see balancerConfig.
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

/** One daemon behind the balancer: its --node-id and address. */
export interface BalancedNode {
  name: string
  address: string
}

/**
 * The http-level blocks of the balancer (README.md shows the same). `routing`:
 * - 'node-name' (what README.md gives): a request whose Mcp-Session-Id names a node goes to that
 *   node; if it is down (502), to the consistent hash of the id over all nodes, where a live node
 *   answers 404 for the unknown session and the client starts a new one (transports §Session
 *   Management, 4). Requests without a session id (OAuth, initialize, 2026-07-28) round-robin.
 * - 'hash-only': `hash $http_mcp_session_id consistent` alone, kept to show (in a test) why it is
 *   not enough: initialize carries no id, so the node the hash later picks is rarely the one that
 *   opened the session.
 */
export function balancerConfig({listen, nodes, routing = 'node-name'}: {listen: string; nodes: BalancedNode[]; routing?: 'node-name' | 'hash-only'}): string {
  const proxy = `proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # Server-sent events: pass each event on at once, keep long streams open.
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_connect_timeout 2s;
      # A node that is down: try the next one, but never re-send a POST that may have run.
      proxy_next_upstream error timeout;`
  const all = `upstream gatehouse {
    # No session id (OAuth endpoints, initialize, 2026-07-28 requests): an empty key is
    # balanced round-robin. An id whose node is gone: always the same live node (a 404).
    hash $http_mcp_session_id consistent;
${nodes.map((n) => `    server ${n.address} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 16;
  }`
  if (routing === 'hash-only') {
    return `${all}
  server {
    listen ${listen};
    location / {
      proxy_pass http://gatehouse;
      ${proxy}
    }
  }`
  }
  return `${all}
${nodes.map((n) => `  upstream gatehouse_${n.name.replace(/-/g, '_')} { server ${n.address}; keepalive 4; }`).join('\n')}
  # A 2025 MCP session lives on the node that opened it, and its id starts with that node's
  # --node-id: route on it.
  map $http_mcp_session_id $gatehouse_upstream {
    default gatehouse;
${nodes.map((n) => `    "~^${n.name}\\." gatehouse_${n.name.replace(/-/g, '_')};`).join('\n')}
  }
  server {
    listen ${listen};
    location / {
      proxy_pass http://$gatehouse_upstream;
      ${proxy}
      # The session's node is down: let a live node answer (404: the client starts a new session).
      error_page 502 = @any_node;
    }
    location @any_node {
      # Only a request naming a session is sent again (it cannot have run anywhere else).
      if ($http_mcp_session_id = "") { return 502; }
      proxy_pass http://gatehouse;
      ${proxy}
    }
  }`
}

export async function startNginx({nodes, port, routing}: {nodes: BalancedNode[]; port?: number; routing?: 'node-name' | 'hash-only'}): Promise<Balancer> {
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
  ${balancerConfig({listen: `127.0.0.1:${listenPort}`, nodes, routing})}
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
