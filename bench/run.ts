// `npm run bench`: the performance targets, each printed beside a baseline measured in the same run.
//   BENCH_DATABASE_URL=postgres://...  use this server instead of starting a throwaway cluster
//   BENCH_QUICK=1                       smaller runs (a smoke test of the benchmark itself)
//   BENCH_ONLY=engine                   only the interpretability engine's section
//   BENCH_ONLY=import                   only the import section (a generated 10,000-conversation ChatGPT export)
//   BENCH_ONLY=proxy                    only the recording proxy's section
//   BENCH_ONLY=agreement                only the agreement figures (10,000 codings, PGlite and PostgreSQL)
//   BENCH_ONLY=core                     only the core's sections (ingestion on PostgreSQL and PGlite, search)
//   BENCH_ONLY=ingestion                only the ingestion on PostgreSQL (the core's first section)
//   BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"  extra node flags for the server processes the benches start
//   BENCH_ONLY=offline                  only the offline classifier (train on 10,000 generated observations, predict)
//   BENCH_ONLY=classify                 only the classification job (1,000 observations judged through the queue, 50 ms judge)
//   BENCH_ONLY=live                     only live sessions (1 session of 50 observers + 20 of 5 over socket.io, PostgreSQL and PGlite)
//   BENCH_ONLY=experiments              only experiments in the product (job overhead with 4 worker processes; pages while an experiment runs)
//   BENCH_ONLY=workbench                only the analysis pages (100,000 observations, 300,000 codings, PostgreSQL, through the server)
//   BENCH_ONLY=suggest                  only suggested behaviours (cluster the newest 2,000 and 10,000 uncoded observations, PostgreSQL)
//   BENCH_ONLY=export                   only the open-data export (100,000 observations, 300,000 codings: JSONL and ZIP through the server)
import { agreementBench } from './agreement.bench.ts';
import { classifyBench } from './classify.bench.ts';
import { engineBench } from './engine.bench.ts';
import { experimentsBench } from './experiments.bench.ts';
import { exportBench } from './export.bench.ts';
import { importBench } from './import.bench.ts';
import { ingestionOnPglite, ingestionOnPostgres } from './ingestion.bench.ts';
import { liveBench } from './live.bench.ts';
import { offlineBench } from './offline.bench.ts';
import { startPostgres } from './lib/postgres-server.ts';
import { printFigures, type Figure } from './lib/stats.ts';
import { proxyBench } from './proxy.bench.ts';
import { searchBench, seedObservations } from './search.bench.ts';
import { workbenchBench } from './workbench.bench.ts';
import { suggestBench } from './suggest.bench.ts';

const quick = process.env.BENCH_QUICK === '1';
const figures: Figure[] = [];

console.log(`Menagerie benchmark (Node ${process.version}${quick ? ', quick' : ''})`);
const only = process.env.BENCH_ONLY;
if (only === 'offline') {
  console.log('\n[offline] the offline classifier: train on 10,000 generated observations, then predict');
  figures.push(...(await offlineBench(quick)));
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
const server = only === 'engine' ? null : await startPostgres();
if (only === 'classify') {
  try {
    console.log('\n[classify] 1,000 observations judged through the job queue, judge answering in 50 ms');
    figures.push(...(await classifyBench(server, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'live') {
  try {
    console.log('\n[live] live sessions: 1 session of 50 observers + 20 of 5, 200-token answers at 15 ms a token, observers coding');
    figures.push(...(await liveBench(server, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'workbench') {
  try {
    console.log('\n[workbench] analysis pages over 100,000 observations with 300,000 codings (PostgreSQL, through the server)');
    figures.push(...(await workbenchBench(server, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'experiments') {
  try {
    console.log('\n[experiments] experiment runs as jobs: queue-to-start with 4 worker processes; page latency while an experiment runs');
    figures.push(...(await experimentsBench(server, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'export') {
  try {
    console.log('\n[export] 100,000 observations with 300,000 codings exported as JSONL and as the ZIP dataset through the server');
    figures.push(...(await exportBench(server, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'import') {
  try {
    console.log('\n[import] a 10,000-conversation ChatGPT export through menagerie import');
    figures.push(...(await importBench(server, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'suggest') {
  try {
    console.log('\n[suggest] suggested behaviours: cluster the newest uncoded observations, as /suggestions does');
    figures.push(...(await suggestBench(server!, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'agreement') {
  try {
    console.log('\n[agreement] figures over 10,000 codings, as the agreement page computes them');
    figures.push(...(await agreementBench(server, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'ingestion') {
  try {
    if (!server) throw new Error('BENCH_ONLY=ingestion needs a PostgreSQL server (binaries or BENCH_DATABASE_URL)');
    console.log('\n[ingestion] ingestion on PostgreSQL');
    const pgRun = await ingestionOnPostgres(server, quick ? 3000 : 20000);
    figures.push(...pgRun.figures);
    await pgRun.stop();
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only === 'proxy') {
  try {
    console.log('\n[proxy] recording proxy overhead against a local upstream');
    figures.push(...(await proxyBench(server, quick)));
  } finally {
    server?.stop();
  }
  console.log('\nResults');
  printFigures(figures);
  process.exit(figures.every((f) => f.pass) ? 0 : 1);
}
if (only !== 'engine') try {
  if (server) {
    console.log('\n[1/3] ingestion on PostgreSQL');
    const pgRun = await ingestionOnPostgres(server, quick ? 3000 : 20000);
    figures.push(...pgRun.figures);
    console.log('\n[2/3] search and filtered listing');
    const total = await seedObservations(pgRun.dbUrl, quick ? 20000 : 100000);
    console.log(`  ${total} observations`);
    figures.push(...(await searchBench(pgRun.appUrl, pgRun.token, pgRun.dbUrl)));
    await pgRun.stop();
  } else {
    console.log('No PostgreSQL server binaries found and BENCH_DATABASE_URL unset: PostgreSQL figures skipped.');
  }
  console.log('\n[3/3] ingestion on PGlite');
  figures.push(...(await ingestionOnPglite(quick ? 1000 : 5000)));
  if (only === 'core') {
    console.log('\nResults');
    printFigures(figures);
    server?.stop();
    process.exit(figures.every((f) => f.pass) ? 0 : 1);
  }
  console.log('\n[import] a 10,000-conversation ChatGPT export through menagerie import');
  figures.push(...(await importBench(server, quick)));
  console.log('\n[proxy] recording proxy overhead against a local upstream');
  figures.push(...(await proxyBench(server, quick)));
  console.log('\n[classify] 1,000 observations judged through the job queue, judge answering in 50 ms');
  figures.push(...(await classifyBench(server, quick)));
  console.log('\n[agreement] figures over 10,000 codings, as the agreement page computes them');
  figures.push(...(await agreementBench(server, quick)));
  console.log('\n[suggest] suggested behaviours: cluster the newest uncoded observations, as /suggestions does');
  figures.push(...(await suggestBench(server!, quick)));
  console.log('\n[live] live sessions: 1 session of 50 observers + 20 of 5, 200-token answers at 15 ms a token, observers coding');
  figures.push(...(await liveBench(server, quick)));
  console.log('\n[experiments] experiment runs as jobs: queue-to-start with 4 worker processes; page latency while an experiment runs');
  figures.push(...(await experimentsBench(server, quick)));
  console.log('\n[workbench] analysis pages over 100,000 observations with 300,000 codings (PostgreSQL, through the server)');
  figures.push(...(await workbenchBench(server, quick)));
  console.log('\n[export] 100,000 observations with 300,000 codings exported as JSONL and as the ZIP dataset through the server');
  figures.push(...(await exportBench(server, quick)));
} finally {
  server?.stop();
}
if (only !== 'engine') {
  console.log('\n[offline] the offline classifier: train on 10,000 generated observations, then predict');
  figures.push(...(await offlineBench(quick)));
}
console.log('\n[engine] interpretability engine: GPT-2-small shape, beside PyTorch');
figures.push(...(await engineBench(quick)));
console.log('\nResults');
printFigures(figures);
