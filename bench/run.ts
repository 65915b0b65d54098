/**
 * Benchmark driver: `npm run bench -- <scenario|all> [--protocol quic|http2|both] [--duration s] [--profile] …`.
 * Edge, connector, origin (and baseline servers) each run in their own process; this process generates the load and
 * reads their CPU and memory from /proc. Prints a Markdown table per run and medians when `--runs` > 1.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseBenchArgs, usage } from './harness/args.js';
import { medianFigures, printFigures, type Figure } from './harness/report.js';
import type { Scenario, ScenarioContext } from './harness/scenario.js';
import { bodies } from './scenarios/bodies.js';
import { bulk } from './scenarios/bulk.js';
import { idle } from './scenarios/idle.js';
import { inprocess } from './scenarios/inprocess.js';
import { small } from './scenarios/small.js';
import { versus } from './scenarios/versus.js';
import { websocket } from './scenarios/websocket.js';

const SCENARIOS: Scenario[] = [small, bulk, websocket, idle, bodies, versus, inprocess];

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`;
}

/** The commit measured, and whether the working tree differed from it (several engineers edit it live). */
function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean).length;
    return dirty === 0 ? head : `${head} + ${dirty} uncommitted file(s) under src/`;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseBenchArgs(
      process.argv.slice(2),
      SCENARIOS.map((s) => s.name),
    );
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage(SCENARIOS)}`);
    process.exitCode = 2;
    return;
  }
  console.log(`# cftunnel bench — ${new Date().toISOString()}`);
  console.log(
    `machine: ${machine()}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`revision: ${revision()}`);
  console.log(`command: npm run bench -- ${process.argv.slice(2).join(' ')}\n`);
  const all: Figure[] = [];
  for (const name of args.scenarios) {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    const ctx: ScenarioContext = {
      protocols: args.protocols,
      durationSeconds: args.durationSeconds,
      sizeBytes: args.sizeBytes,
      count: args.count,
      haConnections: args.haConnections,
      profile: args.profile,
      mode: args.mode,
      log: (m) => console.log(`[${name}] ${m}`),
    };
    const runs: Figure[][] = [];
    for (let i = 0; i < args.runs; i++) {
      if (args.runs > 1) ctx.log(`run ${i + 1} of ${args.runs}`);
      const figures = await scenario.run(ctx);
      runs.push(figures);
      console.log(
        `\n## ${name}, run ${i + 1} (load average after: ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')})\n`,
      );
      printFigures(figures);
      console.log('');
    }
    if (args.runs > 1) {
      console.log(`\n## ${name}, medians of ${args.runs} runs\n`);
      printFigures(medianFigures(runs));
      console.log('');
    }
    all.push(...runs.flat());
  }
  if (args.json !== undefined)
    writeFileSync(
      args.json,
      `${JSON.stringify({ machine: machine(), revision: revision(), date: new Date().toISOString(), argv: process.argv.slice(2), figures: all }, null, 2)}\n`,
    );
}

await main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
