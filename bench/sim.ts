// The deterministic Raft simulator's command line (the VOPR of STYLE.md §3).
//   node dist/bench/sim.js --seed N --steps M [--nodes K] [--seeds COUNT] [--jobs J] [--verbose] [--keep-going]
// Same seed + steps (+ nodes) + commit = same run. A failure prints SEED=, the options, the step, the
// broken invariant and the command that reproduces it, and exits 1.
import { randomInt } from 'node:crypto';
import { describeOptions, reproduceCommand, swarmOptions } from './sim/options.js';
import { percentile, runSeeds } from './sim/runner.js';
import type { SimResult } from './sim/simulation.js';

interface Args {
  seed: number;
  seedGiven: boolean;
  steps: number;
  nodes?: number;
  seeds: number;
  jobs: number;
  verbose: boolean;
  keepGoing: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seed: 0, seedGiven: false, steps: 2000, seeds: 1, jobs: 1, verbose: false, keepGoing: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): number => {
      const text = argv[++i];
      const n = Number(text);
      if (text === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got ${text}`);
      return n;
    };
    if (flag === '--seed') (args.seed = value()), (args.seedGiven = true);
    else if (flag === '--steps') args.steps = value();
    else if (flag === '--nodes') args.nodes = value();
    else if (flag === '--seeds') args.seeds = Math.max(1, value());
    else if (flag === '--jobs') args.jobs = Math.max(1, value());
    else if (flag === '--verbose') args.verbose = true;
    else if (flag === '--keep-going') args.keepGoing = true;
    else throw new Error(`unknown argument ${flag}; usage: sim --seed N --steps M [--nodes K] [--seeds COUNT] [--jobs J] [--verbose] [--keep-going]`);
  }
  // Without --seed, pick one (outside the simulation) and print it, as the VOPR does.
  if (!args.seedGiven) args.seed = randomInt(0, 2 ** 31);
  return args;
}

function printFailure(result: SimResult, args: Args): void {
  const options = swarmOptions(result.seed, args.steps, args.nodes === undefined ? {} : { nodes: args.nodes });
  const f = result.failure!;
  console.log(`\nFAILED SEED=${result.seed}`);
  console.log(describeOptions(options));
  console.log(`  phase=${f.phase} step=${f.step} invariant=${f.invariant}`);
  console.log(`  ${f.detail}`);
  console.log(`  reproduce: ${reproduceCommand(options, args.nodes !== undefined)}`);
  console.log(`         or: node dist/bench/sim.js --seed ${result.seed} --steps ${args.steps}${args.nodes === undefined ? '' : ` --nodes ${args.nodes}`} --verbose`);
}

function printStats(result: SimResult): void {
  const s = result.stats;
  console.log(
    `  SEED=${result.seed} ok: steps=${s.steps} liveness_ticks=${s.livenessTicks} ticks_to_leader=${s.ticksToLeader} ticks_to_commit=${s.ticksToCommit}` +
      ` term_max=${s.termMax} committed=${s.committedMax} proposals=${s.proposalsAccepted}/${s.proposals} crashes=${s.crashes} (in ready ${s.crashesInReady})` +
      ` restarts=${s.restarts} partitions=${s.partitions} conf_changes=${s.confChangesApplied}/${s.confChangesAccepted} transfers=${s.transfers}` +
      ` compactions=${s.compactions} snapshots_installed=${s.snapshotsInstalled} filled_from_log=${s.entriesFilledFromLog} truncations=${s.truncations} reads_checked=${s.readsChecked}` +
      ` messages=${s.messagesDelivered}/${s.messagesSent} dropped=${s.messagesDropped}`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const single = args.seeds === 1;
  if (single || args.verbose) console.log(describeOptions(swarmOptions(args.seed, args.steps, args.nodes === undefined ? {} : { nodes: args.nodes })));
  let done = 0;
  const every = Math.max(1, Math.floor(args.seeds / 20));
  const summary = await runSeeds({
    seedFrom: args.seed,
    seedCount: args.seeds,
    steps: args.steps,
    ...(args.nodes === undefined ? {} : { nodes: args.nodes }),
    jobs: Math.min(args.jobs, args.seeds),
    stopOnFailure: !args.keepGoing,
    onResult: (result) => {
      done++;
      if (!result.ok) printFailure(result, args);
      else if (single || args.verbose) printStats(result);
      if (!single && done % every === 0) console.log(`  ${done}/${args.seeds} seeds`);
    },
  });
  const t = summary.totals;
  const seconds = summary.elapsedMs / 1000;
  console.log(
    `seeds: ${summary.seeds}, steps: ${summary.steps} (+${summary.livenessTicks} liveness ticks), invariant violations: ${summary.failures.length}, ` +
      `elapsed: ${seconds.toFixed(1)} s (${(summary.seeds / seconds).toFixed(1)} seeds/s, ${((summary.steps + summary.livenessTicks) / seconds).toFixed(0)} ticks/s)`,
  );
  console.log(
    `  ticks to leader after heal p50/p99/max: ${percentile(summary.ticksToLeader, 50)}/${percentile(summary.ticksToLeader, 99)}/${percentile(summary.ticksToLeader, 100)}; ` +
      `to commit on every voter p50/p99/max: ${percentile(summary.ticksToCommit, 50)}/${percentile(summary.ticksToCommit, 99)}/${percentile(summary.ticksToCommit, 100)}`,
  );
  console.log(
    `  totals: crashes=${t.crashes} (in ready ${t.crashesInReady}, power losses ${t.powerLosses}, commit rollbacks ${t.commitRollbacks}) restarts=${t.restarts} partitions=${t.partitions} committed=${t.committedMax}` +
      ` conf_changes_applied=${t.confChangesApplied} compactions=${t.compactions} snapshots_installed=${t.snapshotsInstalled} filled_from_log=${t.entriesFilledFromLog} truncations=${t.truncations}` +
      ` reads_checked=${t.readsChecked} transfers=${t.transfers} messages=${t.messagesDelivered}/${t.messagesSent}`,
  );
  if (summary.failures.length > 0) {
    console.log(`FAILED seeds: ${summary.failures.map((r) => r.seed).join(' ')}`);
    process.exitCode = 1;
  }
}

await main();
