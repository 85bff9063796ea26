// Preloaded into the server by bench:security (NODE_OPTIONS=--import): the server's own event-loop
// delay, written every 250 ms to $SKYDECK_BENCH_LOOP_DELAY_FILE, so the bench can tell a stall inside
// the server from one in the network or the probe. SIGUSR2 marks the measured phase: the first resets
// the histogram, the second ends it. With $SKYDECK_BENCH_CPU_PROFILE set, the measured phase is also
// CPU-profiled into that file (open it in Chrome DevTools). Not part of the server.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.SKYDECK_BENCH_LOOP_DELAY_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  const write = () =>
    writeFileSync(file, JSON.stringify({ n: histogram.count, p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) }));
  const timer = setInterval(write, 250);
  timer.unref();
  const profileFile = process.env.SKYDECK_BENCH_CPU_PROFILE;
  const session = profileFile ? new Session() : undefined;
  let phase = 0;
  process.on('SIGUSR2', () => {
    if (phase++ === 0) {
      histogram.reset();
      if (session) {
        session.connect();
        session.post('Profiler.enable', () => session.post('Profiler.start'));
      }
      return;
    }
    clearInterval(timer);
    write();
    session?.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(profileFile, JSON.stringify(result.profile));
      session.disconnect();
    });
  });
}
