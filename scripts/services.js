'use strict';
/**
 * Local services for development and tests, one script for all of them:
 *
 *   npm run services -- start s3 [--port 4568]   prints: s3 http://127.0.0.1:4568 bucket floe-test
 *   npm run services -- stop s3
 *   npm run services -- status
 *
 * State lives under .services/<name>/ (override: $FLOE_SERVICES_DIR): pid and
 * state.json of the running instance, its log, and its data. `start` is
 * idempotent (already running: prints the endpoint again); `stop` only kills a
 * pid that still runs this script for that service.
 *
 * Every service runs in a supervisor child process (`services.js serve <name>`)
 * that binds 127.0.0.1 only, writes ready.json once it serves, and shuts down
 * on SIGTERM (or when the parent given by --parent-pid is gone: tests).
 *
 * Tests start services through the same code: startService('s3', { port: 0,
 * stateDir: tmp, detached: false }) returns the endpoint and a stop().
 *
 * Adding a service (kafka, postgres, kinesis, prometheus): an entry in
 * SERVICES with a default port, extra node flags, serve() (runs in the child;
 * may itself spawn a binary or container and wait for it, returning close())
 * and describe() (the endpoint line).
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { setInterval, setTimeout, clearTimeout } = require('node:timers');
const { Buffer } = require('node:buffer');

const REPO = path.resolve(__dirname, '..');
const SCRIPT = path.join(__dirname, 'services.js');
const DEFAULT_STATE_DIR = process.env.FLOE_SERVICES_DIR || path.join(REPO, '.services');
const HOST = '127.0.0.1';
const READY_FILE = 'ready.json';
const STATE_FILE = 'state.json';

const SERVICES = {
  s3: {
    description: 'S3-compatible object store (s3rver) for checkpoint storage',
    defaultPort: 4568,
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which
    // OpenSSL 3 only offers with the legacy provider: without this flag every
    // paginated listing fails.
    nodeArgs: ['--openssl-legacy-provider'],
    /** Runs in the child. Returns { info, close }. */
    async serve({ port, dir }) {
      try {
        crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
      } catch {
        throw new Error('DES is unavailable: run s3rver under node --openssl-legacy-provider');
      }
      const S3rver = require('s3rver');
      const bucket = 'floe-test';
      const server = new S3rver({
        address: HOST,
        port,
        directory: path.join(dir, 'data'),
        silent: true,
        // Path-style only: vhost-style would need DNS for <bucket>.127.0.0.1.
        vhostBuckets: false,
        configureBuckets: [{ name: bucket, configs: [] }],
      });
      const address = await server.run();
      return {
        info: {
          port: address.port,
          endpoint: `http://${HOST}:${address.port}`,
          bucket,
          region: 'us-east-1',
          // s3rver checks signatures against this fixed key pair.
          accessKeyId: 'S3RVER',
          secretAccessKey: 'S3RVER',
        },
        close: () => server.close(),
      };
    },
    describe: (info) => `s3 ${info.endpoint} bucket ${info.bucket}`,
  },
};

function serviceDef(name) {
  const def = SERVICES[name];
  if (!def) throw new Error(`unknown service "${name}" (known: ${Object.keys(SERVICES).join(', ')})`);
  return def;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeJsonAtomic(file, value) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** True when pid runs `services.js serve <name>` (guards against pid reuse); assumes so without /proc. */
function isOurs(pid, name) {
  if (!isAlive(pid)) return false;
  let cmdline;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return true;
  }
  const i = cmdline.findIndex((arg) => arg.endsWith('services.js'));
  return i >= 0 && cmdline[i + 1] === 'serve' && cmdline[i + 2] === name;
}

function tail(file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Starts a service (or finds it running). Options:
 *   port      default the service's port; 0 picks a free one
 *   stateDir  default .services/ of the repo
 *   detached  true (CLI): outlives this process, recorded in state.json for `stop`;
 *             false (tests): dies with this process, stop it with handle.stop()
 *   timeoutMs how long to wait for it to serve (default 20 s)
 * Resolves to { name, pid, info, line, alreadyRunning, stop() }.
 */
async function startService(name, options = {}) {
  const def = serviceDef(name);
  const detached = options.detached ?? true;
  const dir = path.join(options.stateDir ?? DEFAULT_STATE_DIR, name);
  const port = options.port ?? def.defaultPort;
  const timeoutMs = options.timeoutMs ?? 20_000;
  fs.mkdirSync(dir, { recursive: true });
  const stateFile = path.join(dir, STATE_FILE);
  const readyFile = path.join(dir, READY_FILE);
  const logFile = path.join(dir, 'log');

  const running = readJson(stateFile);
  if (running && isOurs(running.pid, name)) {
    return handle(name, running.pid, running.info, def, dir, true);
  }
  fs.rmSync(stateFile, { force: true });
  fs.rmSync(readyFile, { force: true });

  const log = fs.openSync(logFile, 'a');
  const args = [...def.nodeArgs, SCRIPT, 'serve', name, '--port', String(port), '--dir', dir];
  if (!detached) args.push('--parent-pid', String(process.pid));
  const child = spawn(process.execPath, args, { detached, stdio: ['ignore', log, log], cwd: REPO });
  fs.closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => (exited = signal ?? code));
  child.on('error', (err) => (exited = err.message));

  const deadline = Date.now() + timeoutMs;
  let ready;
  while (!(ready = readJson(readyFile)) || ready.pid !== child.pid) {
    const failure =
      exited !== null
        ? `exited (${exited})`
        : Date.now() > deadline
          ? `did not serve within ${timeoutMs} ms`
          : '';
    if (failure) {
      if (exited === null) child.kill('SIGKILL');
      throw new Error(`service ${name} ${failure}; log ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(50);
  }
  if (detached) {
    child.unref();
    writeJsonAtomic(stateFile, {
      name,
      pid: child.pid,
      info: ready.info,
      startedAt: new Date().toISOString(),
    });
  }
  return handle(name, child.pid, ready.info, def, dir, false, child);
}

function handle(name, pid, info, def, dir, alreadyRunning, child) {
  return {
    name,
    pid,
    info,
    line: def.describe(info),
    alreadyRunning,
    /** Stops what this call started; a service found already running is left alone. */
    stop: async () => {
      if (alreadyRunning) return;
      if (child) {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
      } else {
        await stopPid(name, pid);
      }
      fs.rmSync(path.join(dir, STATE_FILE), { force: true });
    },
  };
}

async function stopPid(name, pid) {
  if (!isOurs(pid, name)) return false;
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid, 10_000))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
  return true;
}

/** Stops a service started detached; resolves to false when it was not running. */
async function stopService(name, options = {}) {
  serviceDef(name);
  const dir = path.join(options.stateDir ?? DEFAULT_STATE_DIR, name);
  const state = readJson(path.join(dir, STATE_FILE));
  const stopped = state ? await stopPid(name, state.pid) : false;
  fs.rmSync(path.join(dir, STATE_FILE), { force: true });
  fs.rmSync(path.join(dir, READY_FILE), { force: true });
  return stopped;
}

/** Service name -> the endpoint line, or undefined when not running. */
function statusOf(options = {}) {
  const out = {};
  for (const [name, def] of Object.entries(SERVICES)) {
    const state = readJson(path.join(options.stateDir ?? DEFAULT_STATE_DIR, name, STATE_FILE));
    out[name] = state && isOurs(state.pid, name) ? def.describe(state.info) : undefined;
  }
  return out;
}

/** The child: serves until SIGTERM/SIGINT, or until the parent pid is gone. */
async function serve(name, flags) {
  const def = serviceDef(name);
  const dir = flags.dir;
  const { info, close } = await def.serve({ port: Number(flags.port), dir });
  let closing = false;
  const shutdown = async (why) => {
    if (closing) return;
    closing = true;
    console.log(`${new Date().toISOString()} ${name}: stopping (${why})`);
    try {
      await close();
    } finally {
      const ready = readJson(path.join(dir, READY_FILE));
      if (ready && ready.pid === process.pid) fs.rmSync(path.join(dir, READY_FILE), { force: true });
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (flags['parent-pid']) {
    const parent = Number(flags['parent-pid']);
    setInterval(() => {
      if (!isAlive(parent)) void shutdown(`parent ${parent} is gone`);
    }, 1000).unref();
  }
  writeJsonAtomic(path.join(dir, READY_FILE), { pid: process.pid, info });
  console.log(`${new Date().toISOString()} ${name}: ${def.describe(info)} (pid ${process.pid})`);
}

function parseFlags(argv) {
  const positional = [];
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) positional.push(argv[i]);
    else flags[m[1]] = m[2] ?? argv[++i];
  }
  return { positional, flags };
}

const USAGE = `usage: npm run services -- <start|stop|status> [service...|all] [--port N]
services: ${Object.entries(SERVICES)
  .map(([name, def]) => `${name} (${def.description})`)
  .join(', ')}`;

async function main(argv) {
  const { positional, flags } = parseFlags(argv);
  const [command, ...names] = positional;
  if (command === 'serve') return serve(names[0], flags);
  const selected = names.length === 0 || names.includes('all') ? Object.keys(SERVICES) : names;
  selected.forEach(serviceDef);
  switch (command) {
    case 'start':
      for (const name of selected) {
        const port = flags.port !== undefined ? Number(flags.port) : undefined;
        const h = await startService(name, { port });
        console.log(h.line);
        console.error(
          h.alreadyRunning ? `(${name} already running, pid ${h.pid})` : `(${name} started, pid ${h.pid})`,
        );
      }
      return;
    case 'stop':
      for (const name of selected) {
        console.log((await stopService(name)) ? `${name} stopped` : `${name} was not running`);
      }
      return;
    case 'status':
      for (const [name, line] of Object.entries(statusOf())) {
        if (selected.includes(name)) console.log(line ?? `${name} not running`);
      }
      return;
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

module.exports = { SERVICES, startService, stopService, statusOf };

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
