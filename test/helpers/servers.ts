// Real cache servers on loopback for the tests (see /work/shared/real-servers.md): OpenSSH's sshd
// serving ssh:// and ssh-ng:// into second Nix stores, and nginx with WebDAV PUT serving http://
// binary caches (open, basic auth, redirecting). Each listens on 127.0.0.1 on a free port, with
// its config, keys, logs and pid file in one temp dir; stop() ends exactly the pids started here.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { createServer, connect } from 'node:net'
import os from 'node:os'
import path from 'node:path'

export interface SshServer {
  port: number
  /** NIX_SSHOPTS that reach it with the client key, non-interactively. */
  sshOpts: string
  /** `ssh://root@127.0.0.1?remote-store=<dir>` etc.: a fresh remote store dir per call. */
  storeUrl(scheme: 'ssh' | 'ssh-ng', name: string): { url: string; dir: string }
  /** nix.conf of the Nix that sshd's sessions run (SetEnv NIX_CONF_DIR). */
  remoteNixConf: string
  /** Successful logins so far (sshd's log): what a push costs in round trips. */
  logins(): number
}

export interface HttpServer {
  port: number
  root: string
  /** Open cache at /open, basic auth (user `hms`, `password`) at /auth, /moved redirects to /open. */
  url(location: 'open' | 'auth' | 'moved', credentials?: boolean): string
  password: string
  /** Requests answered so far, one `METHOD URI STATUS` each: what a push costs the server. */
  requests(): string[]
  /** Stops nginx (an outage) and starts it again on the same port. */
  pause(): Promise<void>
  resume(): Promise<void>
}

export interface Servers {
  dir: string
  ssh?: SshServer
  http?: HttpServer
  /** Why a server could not start: tests that need it skip with this. */
  sshSkip?: string
  httpSkip?: string
  stop(): Promise<void>
}

export const AUTH_USER = 'hms'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function listening(port: number, child: ChildProcess, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited with ${child.exitCode ?? child.signalCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => resolve(socket.end() && true))
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`not listening on ${port} after ${ms} ms`)
}

function which(program: string, dirs = ['/usr/sbin', '/usr/bin', '/sbin', '/bin']): string | undefined {
  return dirs.map((d) => path.join(d, program)).find((p) => fs.existsSync(p))
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' / ')
  } catch {
    return ''
  }
}

async function startSsh(dir: string, children: ChildProcess[]): Promise<SshServer> {
  const sshd = which('sshd')
  if (!sshd) throw new Error('sshd is not installed (apt-get install openssh-server)')
  if (process.getuid?.() !== 0) throw new Error('sshd for the tests runs as root, and this is not root')
  const d = path.join(dir, 'ssh')
  fs.mkdirSync(d, { recursive: true })
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(d, 'host_key')])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(d, 'client_key')])
  const nixConfDir = path.join(d, 'remote-nix')
  fs.mkdirSync(nixConfDir)
  const remoteNixConf = path.join(nixConfDir, 'nix.conf')
  fs.writeFileSync(remoteNixConf, 'substituters =\nexperimental-features = nix-command\n')
  const port = await freePort()
  const config = path.join(d, 'sshd_config')
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(d, 'host_key')}`,
      `AuthorizedKeysFile ${path.join(d, 'client_key.pub')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${path.join(d, 'sshd.pid')}`,
      `SetEnv NIX_CONF_DIR=${nixConfDir} ` +
        `PATH=${path.dirname(which('nix-store') ?? '/usr/bin/nix-store')}:/usr/bin:/bin`,
      'LogLevel INFO',
      '',
    ].join('\n'),
  )
  // sshd insists on its privilege-separation directory.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const log = path.join(d, 'sshd.log')
  const child = spawn(sshd, ['-D', '-e', '-f', config, '-E', log], { stdio: 'ignore' })
  children.push(child)
  await listening(port, child).catch((error) => {
    throw new Error(`sshd did not start: ${(error as Error).message} ${logTail(log)}`)
  })
  const key = path.join(d, 'client_key')
  const sshOpts =
    `-p ${port} -i ${key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ` +
    'BatchMode=yes -o LogLevel=ERROR'
  let stores = 0
  return {
    port,
    sshOpts,
    remoteNixConf,
    logins: () => (fs.existsSync(log) ? (fs.readFileSync(log, 'utf8').match(/Accepted publickey/g)?.length ?? 0) : 0),
    storeUrl(scheme, name) {
      const store = path.join(d, `store-${name}-${++stores}`)
      return { url: `${scheme}://root@127.0.0.1?remote-store=${store}`, dir: store }
    },
  }
}

async function startHttp(
  dir: string,
  children: ChildProcess[],
  stopSignal: Map<ChildProcess, NodeJS.Signals>,
): Promise<HttpServer> {
  const nginx = which('nginx')
  if (!nginx) throw new Error('nginx is not installed (apt-get install nginx)')
  const htpasswd = which('htpasswd')
  if (!htpasswd) throw new Error('htpasswd is not installed (apt-get install apache2-utils)')
  const d = path.join(dir, 'http')
  const root = path.join(d, 'root')
  for (const sub of ['open', 'auth']) fs.mkdirSync(path.join(root, sub), { recursive: true })
  const password = `pw-${Math.random().toString(36).slice(2, 12)}`
  execFileSync(htpasswd, ['-bc', path.join(d, 'htpasswd'), AUTH_USER, password], { stdio: 'ignore' })
  const port = await freePort()
  const conf = path.join(d, 'nginx.conf')
  const temp = (name: string) => `${name}_temp_path ${path.join(d, `${name}-temp`)};`
  fs.writeFileSync(
    conf,
    `user root;
worker_processes 1;
pid ${path.join(d, 'nginx.pid')};
error_log ${path.join(d, 'error.log')};
events { worker_connections 256; }
http {
  log_format hms '$request_method $uri $status';
  access_log ${path.join(d, 'access.log')} hms;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  server {
    listen 127.0.0.1:${port};
    root ${root};
    client_max_body_size 0;
    dav_methods PUT DELETE MKCOL;
    create_full_put_path on;
    dav_access user:rw group:r all:r;
    location /auth/ { auth_basic "hms"; auth_basic_user_file ${path.join(d, 'htpasswd')}; }
    location /moved/ { rewrite ^/moved/(.*)$ /open/$1 permanent; }
  }
}
`,
  )
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(nginx, ['-c', conf, '-g', 'daemon off;'], { stdio: 'ignore' })
    children.push(child)
    stopSignal.set(child, 'SIGQUIT')
    await listening(port, child).catch((error) => {
      throw new Error(`nginx did not start: ${(error as Error).message} ${logTail(path.join(d, 'error.log'))}`)
    })
  }
  await start()
  return {
    async pause() {
      await stopChild(child!, 'SIGQUIT')
    },
    resume: start,
    requests: () => {
      const log = path.join(d, 'access.log')
      return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []
    },
    port,
    root,
    password,
    url: (location, credentials = false) =>
      `http://${credentials ? `${AUTH_USER}:${password}@` : ''}127.0.0.1:${port}/${location}`,
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/** Starts the servers asked for; one that cannot start leaves a reason to skip with instead. */
export async function startServers(want: { ssh?: boolean; http?: boolean }): Promise<Servers> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hms-servers-'))
  fs.chmodSync(dir, 0o755)
  const children: ChildProcess[] = []
  const stopSignal = new Map<ChildProcess, NodeJS.Signals>()
  const servers: Servers = {
    dir,
    async stop() {
      // nginx ends gracefully on SIGQUIT; sshd on SIGTERM.
      for (const child of children) await stopChild(child, stopSignal.get(child) ?? 'SIGTERM')
      try {
        execFileSync('chmod', ['-R', 'u+w', dir], { stdio: 'ignore' })
      } catch {}
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
  if (want.ssh) {
    try {
      servers.ssh = await startSsh(dir, children)
    } catch (error) {
      servers.sshSkip = (error as Error).message
    }
  }
  if (want.http) {
    try {
      servers.http = await startHttp(dir, children, stopSignal)
    } catch (error) {
      servers.httpSkip = (error as Error).message
    }
  }
  return servers
}
