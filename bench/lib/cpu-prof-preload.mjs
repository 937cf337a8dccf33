// `NODE_OPTIONS=--import=<this file>` with CPU_PROF_FILE=<path>: the process runs under V8's CPU
// profiler (node refuses --cpu-prof in NODE_OPTIONS) and writes the profile to that path at exit;
// with CPU_PROF_SIGNAL=1 only between two SIGUSR2s.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const file = process.env.CPU_PROF_FILE;
if (file && process.env.CPU_PROF_SIGNAL) {
  // CPU_PROF_SIGNAL=1: SIGUSR2 starts the profiler (e.g. once the member is warm), the next SIGUSR2
  // stops it and writes <path>.<pid>.cpuprofile; sampling every 250 µs
  const session = new Session();
  session.connect();
  let on = false;
  process.on('SIGUSR2', () => {
    if (!on) {
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: 250 });
      session.post('Profiler.start');
      on = true;
      return;
    }
    on = false;
    session.post('Profiler.stop', (err, r) => {
      if (!err) writeFileSync(`${file}.${process.pid}.cpuprofile`, JSON.stringify(r.profile));
    });
  });
} else if (file) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, r) => {
      if (!err) writeFileSync(`${file}.${process.pid}.cpuprofile`, JSON.stringify(r.profile));
    });
  });
}
