// `NODE_OPTIONS=--import=<this file>` with CPU_PROF_FILE=<path>: the process runs under V8's CPU
// profiler (node refuses --cpu-prof in NODE_OPTIONS) and writes the profile to that path at exit.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const file = process.env.CPU_PROF_FILE;
if (file) {
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
