// The graphile-worker side of tests/bench/queue (run with Node.js from the
// scratch folder where the bench installed graphile-worker).
//
//   node graphile_peer.js CONN migrate
//   node graphile_peer.js CONN drain N high|default
//   node graphile_peer.js CONN latency N high|default
//
// drain: prints {"ms": elapsed} once N jobs have completed (the clock starts
// when the runner is ready). latency: prints {"us": [...]} — for each job,
// microseconds from the payload's t_us (taken at enqueue) to the task start.
const { run, runMigrations } = require("graphile-worker");

const [conn, mode, nText, settings] = process.argv.slice(2);
const n = Number(nText || 0);
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

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
  let done = 0;
  const latencies = [];
  let finish;
  const finished = new Promise((r) => (finish = r));
  const taskList = {
    noop: async () => {
      if (++done === n) finish();
    },
    rec: async (payload) => {
      latencies.push(nowUs() - payload.t_us);
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
  process.stdout.write(JSON.stringify(mode === "drain" ? { ms } : { us: latencies }) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
