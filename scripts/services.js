'use strict';
/**
 * Local services for development and tests, one script for all of them:
 *
 *   npm run services -- start s3 [--port 4568]   prints: s3 http://127.0.0.1:4568 bucket floe-test
 *   npm run services -- stop s3
 *   npm run services -- start kafka [--port 9092] prints: kafka 127.0.0.1:9092
 *   npm run services -- fetch kafka              downloads the broker's jars (Maven) into the cache
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
const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const os = require('node:os');
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
  kafka: {
    description: 'Apache Kafka broker (KRaft, single node, from Maven Central) for the kafka connector',
    defaultPort: 9092,
    nodeArgs: [],
    // The first start may download the jars (Maven); a JVM broker then needs several seconds.
    timeoutMs: 240_000,
    fetch: () => fetchKafka(),
    async serve({ port, dir }) {
      return serveKafka(port, dir);
    },
    describe: (info) => `kafka ${info.broker}`,
  },
};

/*
 * Kafka: Apache Kafka 3.9.x from Maven Central through the machine's Maven,
 * one node in KRaft combined mode (broker and controller in one JVM).
 */
const KAFKA_VERSION = '3.9.1';
const SLF4J_VERSION = '1.7.36';

/** Where the broker's jars are cached, outside git: $FLOE_CACHE_DIR or ~/.cache/floe. */
function kafkaLibsDir() {
  const cache = process.env.FLOE_CACHE_DIR || path.join(os.homedir(), '.cache', 'floe');
  return path.join(cache, `kafka-${KAFKA_VERSION}`, 'libs');
}

/**
 * Downloads kafka_2.13 and a logging binding with `mvn dependency:copy-dependencies`
 * (once: a complete folder is reused). Concurrent fetches each copy into their
 * own folder and the first rename wins, so a half-copied folder is never used.
 */
function fetchKafka() {
  const libs = kafkaLibsDir();
  if (fs.existsSync(path.join(libs, '.complete'))) return libs;
  const root = path.dirname(libs);
  fs.mkdirSync(root, { recursive: true });
  const work = fs.mkdtempSync(path.join(root, 'fetch-'));
  const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>floe.local</groupId>
  <artifactId>floe-kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>${SLF4J_VERSION}</version></dependency>
  </dependencies>
</project>
`;
  fs.writeFileSync(path.join(work, 'pom.xml'), pom);
  const out = path.join(work, 'libs');
  try {
    execFileSync(
      'mvn',
      ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${out}`, '-DincludeScope=runtime'],
      { cwd: work, stdio: ['ignore', 'inherit', 'inherit'] },
    );
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw new Error(
      `fetching Kafka ${KAFKA_VERSION} with Maven failed (is mvn installed and Maven Central reachable?): ${err.message}`,
    );
  }
  fs.writeFileSync(path.join(out, '.complete'), `${new Date().toISOString()}\n`);
  try {
    fs.renameSync(out, libs);
  } catch (err) {
    if (!fs.existsSync(path.join(libs, '.complete'))) throw err;
  }
  fs.rmSync(work, { recursive: true, force: true });
  return libs;
}

/** A port nobody listens on right now (the OS picks it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

function kafkaProperties({ port, controllerPort, dataDir }) {
  return `# Generated by scripts/services.js: one node, KRaft combined mode, 127.0.0.1 only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${controllerPort}
listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}
advertised.listeners=PLAINTEXT://${HOST}:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
# One broker: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
min.insync.replicas=1
# Tests and demos join groups one consumer at a time: no wait for more members.
group.initial.rebalance.delay.ms=0
log.segment.bytes=67108864
log.retention.hours=24
auto.create.topics.enable=false
`;
}

async function serveKafka(requestedPort, dir) {
  const libs = fetchKafka();
  const dataDir = path.join(dir, 'data');
  const portsFile = path.join(dir, 'ports.json');
  // A restart on the same port keeps its controller port too, so the quorum sees the same voter.
  const previous = readJson(portsFile);
  const port = requestedPort === 0 ? await freePort() : requestedPort;
  let controllerPort =
    previous && previous.port === port && (await portIsFree(previous.controllerPort))
      ? previous.controllerPort
      : await freePort();
  if (controllerPort === port) controllerPort = await freePort();
  fs.writeFileSync(portsFile, JSON.stringify({ port, controllerPort }));
  const props = path.join(dir, 'server.properties');
  fs.writeFileSync(props, kafkaProperties({ port, controllerPort, dataDir }));
  const log4j = path.join(dir, 'log4j.properties');
  fs.writeFileSync(
    log4j,
    [
      'log4j.rootLogger=WARN, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.server.KafkaServer=INFO',
      'log4j.logger.kafka.server.BrokerServer=INFO',
      '',
    ].join('\n'),
  );
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const jvm = ['-Xms256m', '-Xmx512m', `-Dlog4j.configuration=file:${log4j}`, '-cp', path.join(libs, '*')];
  if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
    // A base64url id may start with '-', which StorageTool then takes for an option: pass it as --cluster-id=.
    const clusterId = crypto.randomBytes(16).toString('base64url');
    execFileSync(
      java,
      [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
  }
  const broker = spawn(java, [...jvm, 'kafka.Kafka', props], { stdio: ['ignore', 'inherit', 'inherit'] });
  let exited = null;
  const exit = new Promise((resolve) =>
    broker.on('exit', (code, signal) => {
      exited = signal ?? code;
      resolve();
    }),
  );
  const stopBroker = async () => {
    if (exited !== null) return;
    broker.kill('SIGTERM');
    const timer = setTimeout(() => broker.kill('SIGKILL'), 20_000);
    await exit;
    clearTimeout(timer);
  };
  // The supervisor dies with its broker: a broker that exits on its own is a failed service.
  const dieWithBroker = () => {
    console.log(`${new Date().toISOString()} kafka: broker exited (${exited})`);
    process.exit(1);
  };
  broker.on('exit', dieWithBroker);
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({
    clientId: 'floe-services',
    brokers: [`${HOST}:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  for (;;) {
    if (exited !== null) throw new Error(`kafka broker exited (${exited}) before serving`);
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) break;
    } catch {
      // not serving yet
    }
    await admin.disconnect().catch(() => undefined);
    await sleep(250);
  }
  await admin.disconnect();
  return {
    info: { port, controllerPort, broker: `${HOST}:${port}`, javaPid: broker.pid, dataDir },
    close: async () => {
      broker.off('exit', dieWithBroker);
      await stopBroker();
    },
  };
}

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

function cmdlineOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
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
  const timeoutMs = options.timeoutMs ?? def.timeoutMs ?? 20_000;
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
  // A supervisor that had to be SIGKILLed leaves its JVM behind.
  const javaPid = state?.info?.javaPid;
  if (javaPid && isAlive(javaPid) && /kafka\.Kafka/.test(cmdlineOf(javaPid))) {
    process.kill(javaPid, 'SIGKILL');
  }
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

const USAGE = `usage: npm run services -- <start|stop|status|fetch> [service...|all] [--port N]
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
    case 'fetch':
      for (const name of selected) {
        const fetch = SERVICES[name].fetch;
        if (fetch === undefined) continue;
        const started = Date.now();
        console.log(`${name}: ${fetch()} (${Date.now() - started} ms)`);
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

module.exports = { SERVICES, startService, stopService, statusOf, fetchKafka };

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
