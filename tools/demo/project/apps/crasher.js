// The crashing demo app. It exits at once while out/crasher.count is below 3, so PM2's
// max_restarts (3 unstable starts) trips and PM2 marks it errored and stops restarting it. The
// daemon then restarts it; that start finds the count at 3 and stays up for 90 s, then crashes
// again (that exit is crash 1 of the next round): an app that falls over now and then.
const fs = require('fs');
const path = require('path');

const out = path.join(__dirname, '..', 'out');
const file = path.join(out, 'crasher.count');
fs.mkdirSync(out, { recursive: true });
let crashes = 0;
try {
  crashes = Number(fs.readFileSync(file, 'utf8')) || 0;
} catch {}

if (crashes < 3) {
  fs.writeFileSync(file, String(crashes + 1));
  console.error(`demo-crasher: crash ${crashes + 1} of 3`);
  setTimeout(() => process.exit(1), 100);
} else {
  fs.writeFileSync(file, '1');
  console.log('demo-crasher: up; crashing again in 90 s');
  setInterval(() => {}, 1000);
  setTimeout(() => {
    console.error('demo-crasher: crashing');
    process.exit(1);
  }, 90 * 1000);
}
