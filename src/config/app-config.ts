import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Env, EnvReader } from './env';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** `pretty`: one human-readable line per entry; `json`: one JSON object per line, for log collectors. */
export type LogFormat = 'pretty' | 'json';

/**
 * The whole configuration, read once from the environment at start and
 * validated in one pass. Only main.ts and the scripts read process.env; the app
 * receives this object through the AppConfig provider.
 */
export interface AppConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  dataDir: string;
  publicBaseUrl: string | undefined;
  corsOrigins: string[];
  trustProxy: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  bodyLimitBytes: number;
  /** A bearer token that may read GET /metrics besides an admin's JWT (for a Prometheus scraper); unset: admins only. */
  metricsToken: string | undefined;
  database: {
    url: string | undefined;
    migrate: boolean;
    poolSize: number;
  };
  auth: {
    jwtSecret: string | undefined;
    encryptionKey: string | undefined;
    /** Keys values may still be sealed under (after a rotation of ENCRYPTION_KEY); they open, never seal. */
    previousEncryptionKeys: string[];
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    bcryptRounds: number;
    adminUsername: string;
    adminPassword: string | undefined;
    adminEmail: string;
    lockoutAttempts: number;
    lockoutWindowSeconds: number;
  };
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  rateLimit: {
    enabled: boolean;
    anonymousPerMinute: number;
    anonymousPerHour: number;
  };
  audit: {
    enabled: boolean;
    /** Entries held in memory at most (while the database is down); beyond it they are dropped and counted. */
    bufferSize: number;
    flushIntervalMs: number;
    /** `sync`: a response waits until its audit entry is committed; `async`: entries are written in the background. */
    durability: 'sync' | 'async';
    /** How long a response waits for its entry in `sync` mode (the database is down) before it is sent anyway. */
    syncTimeoutMs: number;
  };
  retention: {
    auditDays: number;
    logsDays: number;
    metricsDays: number;
    jobRunsDays: number;
  };
  execution: {
    /** `bwrap` (default) or `none`: unsandboxed, for development only, and only when set explicitly. */
    sandbox: 'bwrap' | 'none';
    bwrapBinary: string;
    pythonBinary: string;
    nodeBinary: string;
    /** Runs at once (default: the number of cores). */
    concurrency: number;
    /** Runs waiting for a slot; beyond it /execute answers 503 with Retry-After. */
    queueSize: number;
    /**
     * Sandboxes started ahead of time (per runtime without zygotes; shared by
     * both with them, as a zygote's sandbox takes its runtime with the job); 0
     * turns the warm pool off.
     */
    warmPoolSize: number;
    /** Clone each run's sandbox from a sandboxed zygote interpreter instead of starting bubblewrap and an interpreter per run. */
    zygote: boolean;
    /** Limit memory with a cgroup per sandbox uid where the machine allows it (exact; a zygote joins once, a bubblewrap sandbox per run pays ~10 ms). */
    memoryCgroup: boolean;
    /** Host uids handed to sandboxes (one each, so per-uid limits are per run) when the service runs as root. */
    uidBase: number;
    captureBytes: number;
    totalOutputBytes: number;
    processes: number;
    fileSizeBytes: number;
    openFiles: number;
    tmpfsBytes: number;
  };
  environments: {
    /** Passed to pip as PIP_INDEX_URL; unset: pip's default index (none when only find-links is set). */
    pipIndexUrl: string | undefined;
    /** Passed to pip as PIP_FIND_LINKS (space-separated directories or URLs). */
    pipFindLinks: string | undefined;
    /** One pip run (install, upgrade, uninstall) or environment creation at most. */
    installTimeoutMs: number;
    /** conda, mamba or micromamba; unset: the first of them found on `searchPath`. */
    condaBinary: string | undefined;
    /** Where conda/mamba/micromamba are looked for, and the PATH pip and conda run with. */
    searchPath: string;
  };
  scheduler: {
    enabled: boolean;
    /** Revoked or expired sessions are deleted this many days after they ended. */
    sessionsKeepDays: number;
  };
  files: {
    /** Where file contents live: `local` (DATA_DIR/files) or an S3-compatible bucket. */
    storage: 'local' | 's3';
    /** Media types accepted by content (`text/*`, `image/png`, `application/zip`, …; `*` accepts any). */
    allowedTypes: string[];
    s3: {
      endpoint: string | undefined;
      bucket: string | undefined;
      region: string;
      accessKeyId: string | undefined;
      secretAccessKey: string | undefined;
      forcePathStyle: boolean;
    };
  };
  ai: {
    /**
     * Let AI configs' base_url name link-local and cloud metadata hosts
     * (169.254.0.0/16, fe80::/10, metadata.google.internal, …), refused by
     * default since a request there can read a cloud machine's credentials.
     */
    allowLinkLocalBaseUrls: boolean;
    /** Whole-request timeout for a call to an AI provider (AI_UPSTREAM_TIMEOUT_MS). */
    upstreamTimeoutMs: number;
    /** A streamed reply fails when no chunk arrives for this long (AI_STREAM_IDLE_TIMEOUT_MS). */
    streamIdleTimeoutMs: number;
    /** A provider failing this many calls in a row (5xx, timeouts, broken replies) cools down (AI_FAILOVER_THRESHOLD). */
    failoverThreshold: number;
    /** How long a provider cools down: calls go to the model's next provider meanwhile (AI_FAILOVER_COOLDOWN_SECONDS). */
    failoverCooldownMs: number;
  };
  deployments: {
    /** How long an app has to answer its health check after starting (DEPLOY_HEALTH_TIMEOUT_MS). */
    healthTimeoutMs: number;
    /** How long a build command may run (DEPLOY_BUILD_TIMEOUT_MS). */
    buildTimeoutMs: number;
    /** Crashes within DEPLOY_CRASH_WINDOW_MS after which a deployment is failed instead of restarted (DEPLOY_MAX_CRASHES). */
    maxCrashes: number;
    crashWindowMs: number;
    /** Size of each deployed app's /tmp (DEPLOY_TMPFS_BYTES). */
    tmpfsBytes: number;
    /** How long a replaced version may finish the requests inside it (DEPLOY_DRAIN_MS). */
    drainMs: number;
    /** Apps also answer at <id>.<DEPLOY_DOMAIN> (a wildcard DNS name pointing here); unset: only /d/<id>/. */
    domain: string | undefined;
    /** Output lines a deployment may log per second, bursts up to twice that; beyond it they are dropped and counted (DEPLOY_LOG_LINES_PER_SECOND). */
    logLinesPerSecond: number;
    /** How often each replica samples its running apps' CPU, memory, disk and requests into sandbox_metrics (DEPLOY_METRICS_INTERVAL_SECONDS). */
    metricsIntervalSeconds: number;
    /** Host uids for apps' sandboxes when the service runs as root: DEPLOY_UID_BASE and the DEPLOY_UID_COUNT after it (apart from the runs' SANDBOX_UID_BASE range). */
    uidBase: number;
    uidCount: number;
    /** Each app's CPU weight when the CPU is contended, 1–10000, 100 = an ordinary process group (DEPLOY_CPU_WEIGHT). */
    cpuWeight: number;
    /** Each app's CPU ceiling in thousandths of a core (DEPLOY_CPU_MILLICORES). */
    cpuMillicores: number;
    /** What apps (and their builds) may reach: nothing, or the public internet through slirp4netns (DEPLOY_OUTBOUND). */
    outbound: 'none' | 'internet';
    /**
     * How long a replica's hold on a deployment lasts unless renewed (renewed every third of it); once it has
     * lapsed, another replica takes the deployment over (DEPLOY_LEASE_SECONDS).
     */
    leaseMs: number;
    /**
     * Where the other replicas reach this one's HTTP port, to forward the requests of the deployments it runs
     * (REPLICA_URL, e.g. http://10.0.0.5:3000); unset: http://<the address it listens on>, loopback for a wildcard.
     */
    replicaUrl: string | undefined;
  };
  realtime: {
    /** A socket whose unsent data passes this is closed with 4008 (REALTIME_MAX_BUFFERED_BYTES). */
    maxBufferedBytes: number;
    /** Open sockets per user (REALTIME_MAX_CONNECTIONS_PER_USER); one more is closed with 4429. */
    maxConnectionsPerUser: number;
    /** Largest message a client may send (REALTIME_MAX_MESSAGE_BYTES); larger: close 1009. */
    maxMessageBytes: number;
    /** Channels one socket may subscribe to (REALTIME_MAX_SUBSCRIPTIONS). */
    maxSubscriptions: number;
    /** Ping period; a socket that has not answered the previous ping is closed (REALTIME_PING_INTERVAL_MS). */
    pingIntervalMs: number;
    /** Time to authenticate without ?token= (REALTIME_AUTH_TIMEOUT_MS); then close 4401. */
    authTimeoutMs: number;
  };
  monitoring: {
    /** How often a monitored server is probed unless it says otherwise (MONITOR_PROBE_INTERVAL_SECONDS). */
    probeIntervalSeconds: number;
    /** How long one TCP connect may take before the server counts as offline (MONITOR_PROBE_TIMEOUT_MS). */
    probeTimeoutMs: number;
    /** Probes in flight at once (MONITOR_PROBE_CONCURRENCY). */
    probeConcurrency: number;
    /** How often the platform's own host (server `local`) is sampled into server_metrics (MONITOR_HOST_SAMPLE_SECONDS). */
    hostSampleSeconds: number;
    /**
     * Whether users (not admins) may watch hosts in private ranges (10/8, 172.16/12, 192.168/16,
     * 100.64/10, fc00::/7) (MONITOR_ALLOW_PRIVATE_HOSTS). Loopback, link-local, metadata and the
     * platform's own addresses stay refused whatever this says.
     */
    allowPrivateHosts: boolean;
    /** Servers a user (not an admin) may have (MONITOR_MAX_SERVERS_PER_USER). */
    maxServersPerUser: number;
    /** Alert rules a user (not an admin) may have (MONITOR_MAX_ALERT_RULES_PER_USER). */
    maxAlertRulesPerUser: number;
  };
}

/** What FILES_ALLOWED_TYPES accepts when unset: text and code, JSON, CSV, images, PDF, archives. */
export const DEFAULT_ALLOWED_FILE_TYPES = [
  'text/*',
  'application/json',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/svg+xml',
  'application/pdf',
  'application/zip',
  'application/gzip',
  'application/x-tar',
];

export function readAppConfig(env: Env): AppConfig {
  const r = new EnvReader(env);
  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  if (nodeEnv === 'production') {
    r.require('JWT_SECRET', 'when NODE_ENV=production');
    r.require('ENCRYPTION_KEY', 'when NODE_ENV=production');
    r.require('DATABASE_URL', 'when NODE_ENV=production');
  }
  const jwtSecret = r.optional('JWT_SECRET');
  r.check(jwtSecret === undefined || jwtSecret.length >= 32, 'JWT_SECRET must be at least 32 characters');
  const adminPassword = r.optional('ADMIN_PASSWORD');
  r.check(adminPassword === undefined || adminPassword.length >= 8, 'ADMIN_PASSWORD must be at least 8 characters');
  const metricsToken = r.optional('METRICS_TOKEN');
  r.check(metricsToken === undefined || metricsToken.length >= 16, 'METRICS_TOKEN must be at least 16 characters');

  const config: AppConfig = {
    env: nodeEnv,
    port: r.int('PORT', 3000, 0, 65535),
    host: r.string('HOST', '0.0.0.0'),
    dataDir: resolve(r.string('DATA_DIR', './.data')),
    publicBaseUrl: r.url('PUBLIC_BASE_URL', ['http:', 'https:']),
    corsOrigins: r.list('CORS_ORIGINS'),
    trustProxy: r.bool('TRUST_PROXY', false),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    // Someone watching a terminal reads the log; anything else (a file, a pipe, a container runtime) parses it.
    logFormat: r.oneOf('LOG_FORMAT', ['pretty', 'json'] as const, process.stdout.isTTY ? 'pretty' : 'json'),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 1024 * 1024, 1024),
    metricsToken,
    database: {
      url: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
      migrate: r.bool('DB_MIGRATE', true),
      poolSize: r.int('DB_POOL_SIZE', 10, 1, 200),
    },
    auth: {
      jwtSecret,
      encryptionKey: r.optional('ENCRYPTION_KEY'),
      previousEncryptionKeys: r.list('ENCRYPTION_KEYS_PREVIOUS'),
      accessTokenTtlSeconds: r.int('ACCESS_TOKEN_TTL_SECONDS', 30 * 60, 1),
      refreshTokenTtlSeconds: r.int('REFRESH_TOKEN_TTL_SECONDS', 7 * 24 * 3600, 60),
      bcryptRounds: r.int('BCRYPT_ROUNDS', 12, 4, 15),
      adminUsername: r.string('ADMIN_USERNAME', 'admin'),
      adminPassword,
      adminEmail: r.string('ADMIN_EMAIL', 'admin@localhost'),
      lockoutAttempts: r.int('LOGIN_LOCKOUT_ATTEMPTS', 5, 1),
      lockoutWindowSeconds: r.int('LOGIN_LOCKOUT_WINDOW_SECONDS', 15 * 60, 1),
    },
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: r.string('REDIS_KEY_PREFIX', 'coderunner:'),
    rateLimit: {
      enabled: r.bool('RATE_LIMIT_ENABLED', true),
      anonymousPerMinute: r.int('RATE_LIMIT_ANONYMOUS_PER_MINUTE', 10, 1),
      anonymousPerHour: r.int('RATE_LIMIT_ANONYMOUS_PER_HOUR', 100, 1),
    },
    audit: {
      enabled: r.bool('AUDIT_ENABLED', true),
      bufferSize: r.int('AUDIT_BUFFER_SIZE', 100_000, 100),
      flushIntervalMs: r.int('AUDIT_FLUSH_INTERVAL_MS', 1000, 10, 60_000),
      durability: r.oneOf('AUDIT_DURABILITY', ['sync', 'async'] as const, 'sync'),
      syncTimeoutMs: r.int('AUDIT_SYNC_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    retention: {
      auditDays: r.int('RETENTION_AUDIT_DAYS', 365, 1),
      logsDays: r.int('RETENTION_LOGS_DAYS', 30, 1),
      metricsDays: r.int('RETENTION_METRICS_DAYS', 30, 1),
      jobRunsDays: r.int('RETENTION_JOB_RUNS_DAYS', 90, 1),
    },
    execution: {
      sandbox: r.oneOf('SANDBOX', ['bwrap', 'none'] as const, 'bwrap'),
      bwrapBinary: r.string('BWRAP_BIN', 'bwrap'),
      pythonBinary: r.string('PYTHON_BIN', '/usr/bin/python3'),
      nodeBinary: r.string('NODE_BIN', process.execPath),
      concurrency: r.int('EXECUTION_CONCURRENCY', availableParallelism(), 1, 256),
      queueSize: r.int('EXECUTION_QUEUE_SIZE', 100, 0, 100_000),
      warmPoolSize: r.int('EXECUTION_WARM_POOL_SIZE', 2, 0, 64),
      zygote: r.bool('EXECUTION_ZYGOTE', true),
      uidBase: r.int('SANDBOX_UID_BASE', 61_000, 1000, 4_000_000_000),
      memoryCgroup: r.bool('SANDBOX_MEMORY_CGROUP', true),
      captureBytes: r.int('EXECUTION_OUTPUT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
      totalOutputBytes: r.int('EXECUTION_TOTAL_OUTPUT_BYTES', 10 * 1024 * 1024, 1024),
      processes: r.int('EXECUTION_MAX_PROCESSES', 64, 8, 4096),
      fileSizeBytes: r.int('EXECUTION_MAX_FILE_BYTES', 16 * 1024 * 1024, 1024),
      openFiles: r.int('EXECUTION_MAX_OPEN_FILES', 256, 16, 65_536),
      tmpfsBytes: r.int('EXECUTION_TMPFS_BYTES', 64 * 1024 * 1024, 1024 * 1024),
    },
    environments: {
      pipIndexUrl: r.optional('PIP_INDEX_URL'),
      pipFindLinks: r.optional('PIP_FIND_LINKS'),
      installTimeoutMs: r.int('ENVIRONMENT_INSTALL_TIMEOUT_MS', 300_000, 1000, 3_600_000),
      condaBinary: r.optional('CONDA_BIN'),
      searchPath: r.string('PATH', '/usr/local/bin:/usr/bin:/bin'),
    },
    scheduler: {
      enabled: r.bool('SCHEDULER_ENABLED', true),
      sessionsKeepDays: r.int('SESSIONS_KEEP_DAYS', 30, 0),
    },
    files: {
      storage: r.oneOf('FILES_STORAGE', ['local', 's3'] as const, 'local'),
      allowedTypes: r.list('FILES_ALLOWED_TYPES').length ? r.list('FILES_ALLOWED_TYPES') : DEFAULT_ALLOWED_FILE_TYPES,
      s3: {
        endpoint: r.url('S3_ENDPOINT', ['http:', 'https:']),
        bucket: r.optional('S3_BUCKET'),
        region: r.string('S3_REGION', 'us-east-1'),
        accessKeyId: r.optional('S3_ACCESS_KEY_ID'),
        secretAccessKey: r.optional('S3_SECRET_ACCESS_KEY'),
        forcePathStyle: r.bool('S3_FORCE_PATH_STYLE', true),
      },
    },
    ai: {
      allowLinkLocalBaseUrls: r.bool('AI_ALLOW_LINK_LOCAL_BASE_URLS', false),
      upstreamTimeoutMs: r.int('AI_UPSTREAM_TIMEOUT_MS', 120_000, 1),
      streamIdleTimeoutMs: r.int('AI_STREAM_IDLE_TIMEOUT_MS', 60_000, 1),
      failoverThreshold: r.int('AI_FAILOVER_THRESHOLD', 3, 1),
      failoverCooldownMs: r.int('AI_FAILOVER_COOLDOWN_SECONDS', 60, 1) * 1000,
    },
    deployments: {
      healthTimeoutMs: r.int('DEPLOY_HEALTH_TIMEOUT_MS', 30_000, 100),
      buildTimeoutMs: r.int('DEPLOY_BUILD_TIMEOUT_MS', 300_000, 1000),
      maxCrashes: r.int('DEPLOY_MAX_CRASHES', 5, 1),
      crashWindowMs: r.int('DEPLOY_CRASH_WINDOW_MS', 600_000, 1000),
      tmpfsBytes: r.int('DEPLOY_TMPFS_BYTES', 64 * 1024 * 1024, 1024 * 1024),
      drainMs: r.int('DEPLOY_DRAIN_MS', 10_000, 0),
      domain: r.optional('DEPLOY_DOMAIN'),
      logLinesPerSecond: r.int('DEPLOY_LOG_LINES_PER_SECOND', 1000, 1, 1_000_000),
      metricsIntervalSeconds: r.int('DEPLOY_METRICS_INTERVAL_SECONDS', 15, 1, 3600),
      uidBase: r.int('DEPLOY_UID_BASE', 64_000, 1000, 4_000_000_000),
      uidCount: r.int('DEPLOY_UID_COUNT', 1000, 1, 100_000),
      cpuWeight: r.int('DEPLOY_CPU_WEIGHT', 100, 1, 10_000),
      cpuMillicores: r.int('DEPLOY_CPU_MILLICORES', 1000, 10, 1_000_000),
      outbound: r.oneOf('DEPLOY_OUTBOUND', ['none', 'internet'] as const, 'none'),
      leaseMs: r.int('DEPLOY_LEASE_SECONDS', 30, 2, 3600) * 1000,
      replicaUrl: r.url('REPLICA_URL', ['http:']),
    },
    realtime: {
      maxBufferedBytes: r.int('REALTIME_MAX_BUFFERED_BYTES', 1024 * 1024, 1024),
      maxConnectionsPerUser: r.int('REALTIME_MAX_CONNECTIONS_PER_USER', 20, 1),
      maxMessageBytes: r.int('REALTIME_MAX_MESSAGE_BYTES', 64 * 1024, 256),
      maxSubscriptions: r.int('REALTIME_MAX_SUBSCRIPTIONS', 100, 1),
      pingIntervalMs: r.int('REALTIME_PING_INTERVAL_MS', 30_000, 100),
      authTimeoutMs: r.int('REALTIME_AUTH_TIMEOUT_MS', 5_000, 100),
    },
    monitoring: {
      probeIntervalSeconds: r.int('MONITOR_PROBE_INTERVAL_SECONDS', 60, 60, 86_400),
      probeTimeoutMs: r.int('MONITOR_PROBE_TIMEOUT_MS', 3_000, 50, 60_000),
      probeConcurrency: r.int('MONITOR_PROBE_CONCURRENCY', 200, 1, 10_000),
      hostSampleSeconds: r.int('MONITOR_HOST_SAMPLE_SECONDS', 15, 1, 3600),
      allowPrivateHosts: r.bool('MONITOR_ALLOW_PRIVATE_HOSTS', false),
      maxServersPerUser: r.int('MONITOR_MAX_SERVERS_PER_USER', 100, 1, 1_000_000),
      maxAlertRulesPerUser: r.int('MONITOR_MAX_ALERT_RULES_PER_USER', 100, 1, 1_000_000),
    },
  };
  if (config.files.storage === 's3') {
    for (const name of ['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) r.require(name, 'when FILES_STORAGE=s3');
  }
  r.done();
  return config;
}

/** Injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** Injection token for the resolved Secrets (given or generated in DATA_DIR). */
export const SECRETS = Symbol('SECRETS');
