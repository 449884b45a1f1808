// The graphile-worker side of tests/bench/queue (run with Node.js from the
// scratch folder where the bench installed graphile-worker).
//
//   node graphile_peer.js CONN migrate
//   node graphile_peer.js CONN drain N high|default
//   node graphile_peer.js CONN latency N high|default
//   node graphile_peer.js CONN feed N glyphic|graphile
//
// drain: prints {"ms": elapsed} once N jobs have completed (the clock starts
// when the runner is ready). latency: prints {"start": {job id: µs}} — when
// each task started, on CLOCK_MONOTONIC (process.hrtime). feed: enqueues N
// jobs ~20 ms apart, one per transaction, and prints {"commit": {job id: µs}}
// — when each enqueue's commit returned, on the same clock. Start minus
// commit is the latency, for both queues alike.
const { run, runMigrations } = require("graphile-worker");

const [conn, mode, nText, settings] = process.argv.slice(2);
const n = Number(nText || 0);
const nowUs = () => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC

function options(taskList) {
  const high = settings === "high";
  const worker = high
    ? { connectionString: conn, concurrentJobs: 24, maxPoolSize: 25, pollInterval: 2000,
        localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
    : { connectionString: conn };
  return {
    connectionString: conn,
    concurrency: high ? 24 : undefined,
    maxPoolSize: high ? 25 : undefined,
    noHandleSignals: true,
    taskList,
    preset: { worker },
    logger: undefined,
  };
}

async function main() {
  if (mode === "migrate") {
    await runMigrations({ connectionString: conn });
    return;
  }
  if (mode === "feed") {
    const { Client } = require("pg");
    const client = new Client({ connectionString: conn });
    await client.connect();
    const sql = settings === "glyphic" ? "SELECT glyphic.enqueue('test.record') AS id"
                                       : "SELECT (graphile_worker.add_job('rec')).id AS id";
    const commit = {};
    for (let i = 0; i < n; i++) {
      const r = await client.query(sql); // autocommit: resolves after the commit
      commit[r.rows[0].id] = nowUs();
      await new Promise((res) => setTimeout(res, 20));
    }
    await client.end();
    process.stdout.write(JSON.stringify({ commit }) + "\n");
    return;
  }
  let done = 0;
  const start = {};
  let finish;
  const finished = new Promise((r) => (finish = r));
  const taskList = {
    noop: async () => {
      if (++done === n) finish();
    },
    rec: async (payload, helpers) => {
      start[helpers.job.id] = nowUs();
      if (++done === n) finish();
    },
  };
  const opts = options(taskList);
  // quiet: graphile-worker logs every job at info level otherwise
  const { Logger } = require("graphile-worker");
  opts.logger = new Logger(() => () => {});
  const runner = await run(opts);
  const t0 = process.hrtime.bigint();
  process.stdout.write("ready\n");
  await finished;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await runner.stop();
  process.stdout.write(JSON.stringify(mode === "drain" ? { ms } : { start }) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
